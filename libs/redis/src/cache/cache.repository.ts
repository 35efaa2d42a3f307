import type { CacheGlob } from './cache-glob';
import type { PurgeResult } from '../purge-result';

/** A live cache entry as stored: times are epoch milliseconds from Redis' clock. */
export interface CacheEntry {
  key: string;
  data: unknown;
  tags: string[];
  cachedAt: number;
  expiresAt: number;
}

export interface NewCacheEntry {
  key: string;
  data: unknown;
  ttlSeconds: number;
  tags: string[];
  /** SET NX semantics: store only when no live entry has this key. */
  onlyIfAbsent: boolean;
}

export type CacheSetOutcome =
  { kind: 'stored'; cachedAt: number; expiresAt: number } | { kind: 'exists'; expiresAt: number };

export interface CacheEntryChanges {
  data?: unknown;
  /** A new time to live counted from now; absent keeps the current expiry. */
  ttlSeconds?: number;
}

export type CacheUpdateOutcome =
  { kind: 'updated'; updatedAt: number; expiresAt: number } | { kind: 'not_found' };

export interface CacheDeleteResult {
  deletedAt: number;
  /** Keys whose live entry was deleted, in request order. */
  deleted: string[];
}

/** What to invalidate; the selectors combine (union). */
export interface CacheInvalidation {
  keys?: string[];
  tags?: string[];
  pattern?: CacheGlob;
}

export interface CacheInvalidationResult {
  /** Exact number of live entries deleted. */
  count: number;
  /** The first `reportLimit` deleted keys. */
  keys: string[];
}

export interface CacheStats {
  hits: number;
  misses: number;
}

/**
 * Storage contract for the cache. Bound to the Redis implementation by RedisModule; a test may bind
 * another. Implementations never throw HTTP errors; "Redis is unreachable" is StoreUnavailableError.
 */
export abstract class CacheRepository {
  /** Creates or replaces an entry and its tag memberships atomically. */
  abstract set(tenant: string, entry: NewCacheEntry): Promise<CacheSetOutcome>;
  /** Reads an entry and counts a hit or a miss, in one round trip. */
  abstract get(tenant: string, key: string): Promise<CacheEntry | null>;
  /** One round trip; aligned with `keys` (null where absent); counts a hit or miss per key. */
  abstract getMany(tenant: string, keys: string[]): Promise<(CacheEntry | null)[]>;
  abstract update(
    tenant: string,
    key: string,
    changes: CacheEntryChanges,
  ): Promise<CacheUpdateOutcome>;
  abstract delete(tenant: string, keys: string[]): Promise<CacheDeleteResult>;
  /**
   * Deletes every live entry selected by keys, tags or pattern, in bounded steps (each one Lua call
   * of a few milliseconds at most), however many entries match.
   */
  abstract invalidate(
    tenant: string,
    selection: CacheInvalidation,
    reportLimit: number,
  ): Promise<CacheInvalidationResult>;
  abstract stats(tenant: string): Promise<CacheStats>;
  /**
   * Removes expired entries from the key and tag indexes, at most `limit`; returns how many, and
   * whether more wait.
   */
  abstract purgeExpired(tenant: string, limit: number): Promise<PurgeResult>;
  /**
   * Trims expired members from about `count` tag indexes, starting at `cursor` ('0' = start).
   * Returns the cursor to continue from ('0' when the pass is complete).
   */
  abstract sweepTags(
    tenant: string,
    cursor: string,
    count: number,
  ): Promise<{ cursor: string; removed: number }>;
  /** Tenants that have stored data (for the background sweeper). */
  abstract tenants(): AsyncIterable<string[]>;
}
