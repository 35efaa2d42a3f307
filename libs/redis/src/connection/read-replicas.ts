import type { RedisClient } from './redis-client.factory';

/** `REDIS_READ_FROM`: where plain reads go. Writes and read-then-write calls always use the primary. */
export type ReadFrom = 'primary' | 'replica';

// Kept beside the primary client, like the replica-ack policy, so repositories keep one injected
// client and the choice of connection stays in the connection layer.
const readers = new WeakMap<RedisClient, RedisClient>();

export function attachReader(primary: RedisClient, reader: RedisClient): void {
  readers.set(primary, reader);
}

/**
 * The connection for a read that tolerates staleness (a GET by id, a read-only script). Replication
 * is asynchronous, so such a read may miss a write acknowledged a moment ago; anything that reads
 * to decide a write (CAS, idempotency, rate limits) must use the primary client itself.
 */
export function readerFor(primary: RedisClient): RedisClient {
  return readers.get(primary) ?? primary;
}

/** The replica connection, when one was opened (to close it with the primary). */
export function attachedReader(primary: RedisClient): RedisClient | undefined {
  return readers.get(primary);
}
