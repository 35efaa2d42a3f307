import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every key starts with this, so a leaked key is recognisable (secret scanners, log greps). */
export const API_KEY_PREFIX = 'masa_';

/**
 * `masa_<tenant>.<id>.<secret>`: the tenant and id say where the record is (in the tenant's slot,
 * no global lookup table); the secret is 256 random bits. Only the SHA-256 of the whole key is
 * stored: with that much entropy a fast hash is enough (there is nothing to brute-force).
 */
const API_KEY_FORMAT = /^masa_([a-z0-9][a-z0-9_-]{0,62})\.([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;

export interface IssuedApiKey {
  id: string;
  key: string;
  secretHash: string;
}

export function issueApiKey(tenant: string): IssuedApiKey {
  const id = randomBytes(8).toString('hex');
  const key = `${API_KEY_PREFIX}${tenant}.${id}.${randomBytes(32).toString('base64url')}`;
  return { id, key, secretHash: hashApiKey(key) };
}

/** Where a presented key claims to live; undefined when it is not shaped like one of ours. */
export function parseApiKey(presented: string): { tenant: string; id: string } | undefined {
  const match = API_KEY_FORMAT.exec(presented);
  return match ? { tenant: match[1], id: match[2] } : undefined;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex SHA-256 digests. */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The part of a key that identifies it without granting anything (shown in lists). */
export function apiKeyHint(tenant: string, id: string): string {
  return `${API_KEY_PREFIX}${tenant}.${id}.…`;
}
