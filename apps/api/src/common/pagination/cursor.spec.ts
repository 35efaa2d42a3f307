import { InvalidRequestError } from '../errors/domain-errors';
import { decodeCursor, encodeCursor, queryFingerprint } from './cursor';

const toCursor = (payload: unknown): string =>
  Buffer.from(JSON.stringify(payload)).toString('base64url');

function rejection(cursor: string, fingerprint: string): InvalidRequestError {
  try {
    decodeCursor(cursor, fingerprint);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    return error as InvalidRequestError;
  }
  throw new Error(`cursor ${cursor} was accepted`);
}

function expectCursorRejected(cursor: string, fingerprint: string, message: RegExp): void {
  const error = rejection(cursor, fingerprint);
  expect(error.code).toBe('invalid_request');
  expect(error.problems).toHaveLength(1);
  expect(error.problems[0].field).toBe('cursor');
  expect(error.problems[0].message).toMatch(message);
}

describe('cursor', () => {
  const fingerprint = queryFingerprint({
    status: 'active',
    createdBy: 'bob',
    sort: 'created_at',
    order: 'desc',
  });

  describe('round trip', () => {
    it.each([
      { score: 1717171717171, id: '0b9f8c1e-8a43-4c55-9d3b-8e3c1a2f6d10' },
      { score: 0, id: 'a' },
      { score: -5, id: 'x.y:z_1-2' },
      { score: Number.MAX_SAFE_INTEGER, id: 'A'.repeat(256) },
    ])('decodes what it encoded: %j', (position) => {
      const cursor = encodeCursor(position, fingerprint);
      expect(decodeCursor(cursor, fingerprint)).toEqual(position);
    });

    it('produces an opaque, URL-safe string', () => {
      const cursor = encodeCursor({ score: 1, id: 'abc' }, fingerprint);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(cursor).not.toContain('abc');
    });

    it('returns only score and id', () => {
      const decoded = decodeCursor(encodeCursor({ score: 7, id: 's7' }, fingerprint), fingerprint);
      expect(Object.keys(decoded).sort()).toEqual(['id', 'score']);
    });
  });

  describe('queryFingerprint', () => {
    it('does not depend on the order of the keys', () => {
      expect(queryFingerprint({ a: '1', b: 2, c: undefined })).toBe(
        queryFingerprint({ c: undefined, b: 2, a: '1' }),
      );
    });

    it('is a 16-character base64url string and stable across calls', () => {
      const first = queryFingerprint({ status: 'active' });
      expect(first).toMatch(/^[A-Za-z0-9_-]{16}$/);
      expect(queryFingerprint({ status: 'active' })).toBe(first);
    });

    it.each([
      ['a different value', { status: 'closed', createdBy: 'bob', order: 'desc' }],
      ['a different filter name', { state: 'active', createdBy: 'bob', order: 'desc' }],
      ['a dropped filter', { status: 'active', order: 'desc' }],
      ['an extra filter', { status: 'active', createdBy: 'bob', order: 'desc', limit: 10 }],
      ['a different sort order', { status: 'active', createdBy: 'bob', order: 'asc' }],
      [
        'a number instead of absent',
        { status: 'active', createdBy: 'bob', order: 'desc', page: 0 },
      ],
    ])('changes with %s', (_label, parts: Record<string, string | number | undefined>) => {
      const base = queryFingerprint({ status: 'active', createdBy: 'bob', order: 'desc' });
      expect(queryFingerprint(parts)).not.toBe(base);
    });

    it('changes when a value changes by one character', () => {
      expect(queryFingerprint({ createdBy: 'bob' })).not.toBe(
        queryFingerprint({ createdBy: 'bo' }),
      );
      expect(queryFingerprint({ limit: 10 })).not.toBe(queryFingerprint({ limit: 11 }));
    });
  });

  describe('rejection', () => {
    it.each(['', 'garbage', '!!!', 'bm90IGpzb24', '%%%', '{"v":1}'])(
      'rejects the garbage cursor %j',
      (cursor) => {
        expectCursorRejected(cursor, fingerprint, /not a cursor returned by this API/);
      },
    );

    it.each([null, 1, 'text', [], {}, true])('rejects a cursor whose JSON is %j', (payload) => {
      expectCursorRejected(toCursor(payload), fingerprint, /not a cursor returned by this API/);
    });

    it.each([0, 2, '1', null])('rejects the version %j', (version) => {
      expectCursorRejected(
        toCursor({ v: version, s: 1, i: 'a', q: fingerprint }),
        fingerprint,
        /not a cursor/,
      );
    });

    it.each([1.5, '1', null, Number.MAX_SAFE_INTEGER + 1, 1e300])(
      'rejects the score %j',
      (score) => {
        expectCursorRejected(
          toCursor({ v: 1, s: score, i: 'a', q: fingerprint }),
          fingerprint,
          /not a cursor/,
        );
      },
    );

    it('rejects a missing score', () => {
      expectCursorRejected(toCursor({ v: 1, i: 'a', q: fingerprint }), fingerprint, /not a cursor/);
    });

    it.each(['', 'a b', 'a/b', 'a{b}', 'a\nb', 'é', 'x'.repeat(257), 7, null])(
      'rejects the id %j',
      (id) => {
        expectCursorRejected(
          toCursor({ v: 1, s: 1, i: id, q: fingerprint }),
          fingerprint,
          /not a cursor/,
        );
      },
    );

    it('rejects a missing or non-string query fingerprint', () => {
      expectCursorRejected(toCursor({ v: 1, s: 1, i: 'a' }), fingerprint, /not a cursor/);
      expectCursorRejected(toCursor({ v: 1, s: 1, i: 'a', q: 5 }), fingerprint, /not a cursor/);
    });

    it('rejects a cursor issued for another query', () => {
      const other = queryFingerprint({
        status: 'closed',
        createdBy: 'bob',
        sort: 'created_at',
        order: 'desc',
      });
      const cursor = encodeCursor({ score: 10, id: 'abc' }, other);
      expectCursorRejected(
        cursor,
        fingerprint,
        /belongs to a query with other filters or sort order/,
      );
      // ...and it is still valid for the query it came from.
      expect(decodeCursor(cursor, other)).toEqual({ score: 10, id: 'abc' });
    });

    it('rejects a cursor whose payload was edited to point at another query', () => {
      const cursor = toCursor({ v: 1, s: 1, i: 'a', q: 'AAAAAAAAAAAAAAAA' });
      expectCursorRejected(cursor, fingerprint, /belongs to a query/);
    });
  });
});
