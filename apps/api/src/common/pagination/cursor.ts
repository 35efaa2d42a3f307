import { createHash } from 'node:crypto';
import { InvalidRequestError } from '../errors/domain-errors';

/**
 * Opaque paging cursor: the position after the last item returned (its sort score and id), bound
 * to the query it came from so it cannot be replayed against other filters.
 */
export interface CursorPosition {
  score: number;
  id: string;
}

interface CursorPayload {
  v: 1;
  s: number;
  i: string;
  q: string;
}

/** A short fingerprint of the filters and sort a cursor belongs to. */
export function queryFingerprint(parts: Record<string, string | number | undefined>): string {
  const canonical = Object.keys(parts)
    .sort()
    .map((key) => `${key}=${parts[key] ?? ''}`)
    .join('&');
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

export function encodeCursor(position: CursorPosition, fingerprint: string): string {
  const payload: CursorPayload = { v: 1, s: position.score, i: position.id, q: fingerprint };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

export function decodeCursor(cursor: string, fingerprint: string): CursorPosition {
  let payload: Partial<CursorPayload>;
  try {
    payload = JSON.parse(
      Buffer.from(cursor, 'base64url').toString('utf8'),
    ) as Partial<CursorPayload>;
  } catch {
    throw InvalidRequestError.field('cursor', 'is not a cursor returned by this API');
  }
  if (
    payload?.v !== 1 ||
    typeof payload.s !== 'number' ||
    !Number.isSafeInteger(payload.s) ||
    typeof payload.i !== 'string' ||
    !/^[A-Za-z0-9._:-]{1,256}$/.test(payload.i) ||
    typeof payload.q !== 'string'
  ) {
    throw InvalidRequestError.field('cursor', 'is not a cursor returned by this API');
  }
  if (payload.q !== fingerprint) {
    throw InvalidRequestError.field(
      'cursor',
      'belongs to a query with other filters or sort order',
    );
  }
  return { score: payload.s, id: payload.i };
}
