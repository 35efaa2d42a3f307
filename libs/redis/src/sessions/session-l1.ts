import { Logger } from '@nestjs/common';
import type { RedisConnectionOptions } from '../connection/redis-client.factory';
import { connectToPrimary } from '../connection/redis-client.factory';
import type Redis from 'ioredis';
import { TrackedReadCache, type L1Log, type L1Options } from '../l1/tracked-read-cache';
import type { StoredSession } from './session.repository';

/** DI token of the session L1 (undefined when SESSION_L1_CACHE is off). */
export const SESSION_L1 = Symbol('SESSION_L1');

export type SessionL1 = TrackedReadCache<StoredSession | null>;

/**
 * Opens the two connections the session L1 needs, or undefined when it is off or cannot work.
 * The subscriber speaks RESP2: under RESP3 Redis would send invalidations as `invalidate` push
 * frames, which ioredis drops, instead of Pub/Sub messages on __redis__:invalidate.
 * `guardReader` may put a circuit breaker in front of the reader, which carries request reads; the
 * subscriber sends nothing per request, so nothing can pile up on it.
 */
export function openSessionL1(
  connection: RedisConnectionOptions,
  options: L1Options | undefined,
  log: L1Log = (level, text) => new Logger('Redis')[level](text),
  guardReader?: (reader: Redis) => void,
): SessionL1 | undefined {
  if (options === undefined) return undefined;
  const connections = trackingConnections(connection);
  if (connections === undefined) {
    // Tracking is per node on a Cluster and REDIRECT must name a client of the same node: one
    // subscriber per master and slot-map bookkeeping, not worth it for a gain this small.
    log('warn', 'SESSION_L1_CACHE is ignored on Redis Cluster: session reads go to Redis');
    return undefined;
  }
  // Before the cache subscribes to the reader's 'ready': a reconnect must move a breaker to
  // half-open before CLIENT TRACKING is sent, or an open breaker would refuse it and leave the L1
  // off until the next reconnect.
  guardReader?.(connections.reader);
  return new TrackedReadCache(connections.reader, connections.subscriber, options, log);
}

/** The reader (tracked reads) and the RESP2 subscriber; undefined on a Cluster. */
export function trackingConnections(
  connection: RedisConnectionOptions,
): { reader: Redis; subscriber: Redis } | undefined {
  const reader = connectToPrimary(connection);
  if (reader === undefined) return undefined;
  const subscriber = connectToPrimary(connection, {
    protocol: 2,
    autoResubscribe: false,
    enableAutoPipelining: false,
  })!;
  return { reader, subscriber };
}

/**
 * Until when (monotonic clock) a read session may be served from the L1: never past its own
 * expires_at. Absent sessions are not cached: a 404 is not the hot path.
 */
export function sessionKeepUntil(session: StoredSession | null): number | undefined {
  if (session === null) return undefined;
  return performance.now() + (session.expiresAt - Date.now());
}

/** Shared by every request the L1 answers: frozen, so no caller can change another's answer. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
