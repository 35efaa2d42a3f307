import { InvalidRequestError } from '../errors/domain-errors';
import { etagOf, parseIfMatch } from './if-match.decorator';

function expectIfMatchRejected(header: string | string[]): void {
  let caught: unknown;
  try {
    parseIfMatch(header);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidRequestError);
  expect((caught as InvalidRequestError).problems).toEqual([
    { field: 'If-Match', message: 'must be a strong ETag such as "3" (or *)' },
  ]);
}

describe('parseIfMatch', () => {
  it('returns undefined when the header is absent (no precondition)', () => {
    expect(parseIfMatch(undefined)).toBeUndefined();
  });

  it('returns undefined for * (any current version)', () => {
    expect(parseIfMatch('*')).toBeUndefined();
    expect(parseIfMatch('  *  ')).toBeUndefined();
  });

  it('returns the version of a strong ETag', () => {
    expect(parseIfMatch('"3"')).toBe(3);
    expect(parseIfMatch('"0"')).toBe(0);
    expect(parseIfMatch(' "42" ')).toBe(42);
    expect(parseIfMatch('"999999999999999"')).toBe(999999999999999);
  });

  it('rejects a weak ETag W/"3", which cannot guard a write', () => {
    expectIfMatchRejected('W/"3"');
  });

  it('rejects a bare unquoted version 3', () => {
    expectIfMatchRejected('3');
  });

  it.each([
    '',
    '""',
    '"abc"',
    '"-1"',
    '"1.5"',
    '"3',
    '3"',
    '"3", "4"',
    '"1234567890123456"',
    "'3'",
    '**',
  ])('rejects the malformed value %j', (header) => expectIfMatchRejected(header));

  it('reads a single-element header array', () => {
    expect(parseIfMatch(['"7"'])).toBe(7);
    expect(parseIfMatch(['*'])).toBeUndefined();
  });

  it('rejects a header array with several ETags (joined into a list)', () => {
    expectIfMatchRejected(['"3"', '"4"']);
  });

  it('accepts what etagOf produces', () => {
    expect(parseIfMatch(etagOf(12))).toBe(12);
  });
});

describe('etagOf', () => {
  it('quotes the version as a strong ETag', () => {
    expect(etagOf(3)).toBe('"3"');
    expect(etagOf(0)).toBe('"0"');
    expect(etagOf(1234)).toBe('"1234"');
  });
});
