import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomUUID } from 'node:crypto';

const seeds = new AsyncLocalStorage<string>();

/** Runs a request's handler with the seed its Idempotency-Key (and body) gives its new records. */
export function withRecordIdSeed<T>(seed: string, handler: () => Promise<T>): Promise<T> {
  return seeds.run(seed, handler);
}

/**
 * The id of the `n`-th record a create makes. Under an Idempotency-Key it is derived from the key,
 * tenant, route, caller and body, so a retry of a create whose outcome was unknown (a lost reply:
 * 503 `outcome_unknown`) names the same record, and the store refuses to write it twice. Without
 * a key, a random UUID. Either way a UUID in the v4 layout, which every id check accepts.
 */
export function newRecordId(n: number): string {
  const seed = seeds.getStore();
  if (seed === undefined) return randomUUID();
  const bytes = createHash('sha256').update(`${seed}\n${n}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** True when this request's new records have ids derived from its Idempotency-Key. */
export function recordIdsAreDerived(): boolean {
  return seeds.getStore() !== undefined;
}
