/**
 * What an audit record may keep of a request or response payload (docs/architecture/audit.md
 * states the same rule):
 *
 * 1. Secrets by key name. A key is split into words (at `_`, `-`, `.`, spaces and camelCase
 *    boundaries) and lower-cased. Its value, whatever its type, becomes "[REDACTED]" when a word is
 *    one of SECRET_WORDS, or two adjacent words are `api key`, `private key`, `access key` or
 *    `client secret`. Any depth, any case: `Password`, `db.password`, `x-api-key`, `apiKey`,
 *    `refreshToken`, `Set-Cookie`. Whole words keep `max_tokens` or `tokens_used` readable.
 * 2. PII inside string values (when masking is on): e-mail addresses keep their first character
 *    and domain (`j***@example.com`); card numbers (13-19 digits, optionally grouped by spaces or
 *    hyphens, passing the Luhn check) keep their last four (`[CARD ****4242]`); phone numbers
 *    (a `+` and 8-15 digits, or a `(area)` or grouped form with 9-15 digits) keep their last two
 *    (`[PHONE ***67]`). Digits inside identifiers (UUIDs, cache keys, timestamps) are not touched:
 *    a match must not touch a letter or digit on either side.
 * 3. Size. The sanitized value's JSON larger than `maxBytes` is replaced by
 *    `{ "_truncated": true, "original_bytes": n, "preview": "<first bytes of the JSON>" }`.
 *
 * With AUDIT_PAYLOADS=fields (the default) none of this is needed: a record keeps only the
 * payload's field names and sizes ({@link payloadFields}), never a value.
 */
export const REDACTED = '[REDACTED]';

const SECRET_WORDS = new Set([
  'password',
  'passwords',
  'passwd',
  'passphrase',
  'pwd',
  'secret',
  'secrets',
  'token',
  'apikey',
  'privatekey',
  'authorization',
  'cookie',
  'cookies',
  'credential',
  'credentials',
]);
const SECRET_PAIRS = new Set(['api key', 'private key', 'access key', 'client secret']);

export interface SanitizeOptions {
  piiMasking: boolean;
}

export function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word !== '')
    .map((word) => word.toLowerCase());
}

export function isSecretKey(key: string): boolean {
  const words = keyWords(key);
  for (let i = 0; i < words.length; i++) {
    if (SECRET_WORDS.has(words[i])) return true;
    if (i > 0 && SECRET_PAIRS.has(`${words[i - 1]} ${words[i]}`)) return true;
  }
  return false;
}

const EMAIL =
  /(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})(?![A-Za-z0-9-])/g;
const CARD = /(?<![A-Za-z0-9])\d(?:[ -]?\d){12,18}(?![A-Za-z0-9])/g;
const PHONE =
  /(?<![A-Za-z0-9+])(?:\+\d(?:[ -]?\d){7,14}|\(\d{2,4}\)[ -]?\d(?:[ -]?\d){5,11}|\d{2,4}[ -]\d{2,4}[ -]\d(?:[ -]?\d){2,8})(?![A-Za-z0-9])/g;

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export function maskPii(text: string): string {
  if (!/[\d@]/.test(text)) return text;
  return text
    .replace(EMAIL, (_, first: string, domain: string) => `${first}***@${domain}`)
    .replace(CARD, (match) => {
      const digits = match.replace(/\D/g, '');
      return luhn(digits) ? `[CARD ****${digits.slice(-4)}]` : match;
    })
    .replace(PHONE, (match) => {
      const digits = match.replace(/\D/g, '');
      return digits.length >= 9 && digits.length <= 15 ? `[PHONE ***${digits.slice(-2)}]` : match;
    });
}

/** A copy of `value` with secrets redacted and, when enabled, PII masked (rules 1 and 2). */
export function sanitize(value: unknown, options: SanitizeOptions): unknown {
  if (typeof value === 'string') return options.piiMasking ? maskPii(value) : value;
  if (Array.isArray(value)) return value.map((item) => sanitize(item, options));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      out[key] = isSecretKey(key) ? REDACTED : sanitize(item, options);
    }
    return out;
  }
  return value;
}

export interface TruncatedPayload {
  _truncated: true;
  original_bytes: number;
  preview: string;
}

/** `value` itself, or the truncation marker when its JSON is larger than `maxBytes` (rule 3). */
export function truncate(value: unknown, maxBytes: number): unknown {
  if (value === undefined) return null;
  const json = JSON.stringify(value);
  const bytes = Buffer.byteLength(json);
  if (bytes <= maxBytes) return value;
  // The preview is cut on a character boundary; a multi-byte character never ends up halved.
  const preview = Buffer.from(json)
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
  return { _truncated: true, original_bytes: bytes, preview } satisfies TruncatedPayload;
}

export interface PayloadFields {
  _omitted: true;
  /** Top-level field -> bytes of its JSON value (for a payload that is an object). */
  fields?: Record<string, number>;
  /** Bytes of the whole JSON value (for a payload that is not an object). */
  bytes?: number;
}

/**
 * What a record keeps of a payload under AUDIT_PAYLOADS=fields: which top-level fields were sent
 * and how large they were, never a value. The trail is hash-chained and cannot be edited, so
 * this is what lets an erasure leave no payload of the subject in it.
 */
export function payloadFields(value: unknown): PayloadFields | null {
  if (value === undefined || value === null) return null;
  const bytes = (item: unknown) => Buffer.byteLength(JSON.stringify(item) ?? '');
  if (typeof value !== 'object' || Array.isArray(value))
    return { _omitted: true, bytes: bytes(value) };
  const fields: Record<string, number> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    fields[key] = bytes(item);
  }
  return { _omitted: true, fields };
}

/** Rules 1-3 together: what a record stores of a payload. */
export function sanitizePayload(
  value: unknown,
  options: SanitizeOptions & { maxBytes: number; payloads?: 'fields' | 'values' },
): unknown {
  if (options.payloads === 'fields') return payloadFields(value);
  return truncate(sanitize(value, options), options.maxBytes);
}
