/**
 * Cache keys and tags as the API accepts them: plain, bounded, and free of every character that
 * means something in a Redis key name (`{`, `}`) or in a Redis glob (`*`, `?`, `[`, `]`, `\`).
 * They go into key names unencoded, so cache entries stay readable in redis-cli.
 */
export const CACHE_KEY_PATTERN = /^[A-Za-z0-9._:-]{1,250}$/;
export const CACHE_KEY_RULE = 'must be 1-250 characters of A-Z a-z 0-9 . _ : -';

/**
 * Key names for one tenant's cache. Lua scripts receive them through
 * {@link CacheKeyspace.scriptLayout}, so the naming rule is written once, here.
 *
 * ```
 * <tenant prefix>cache:e:<cache_key>   HASH  data (PayloadCodec), cached_at, updated_at, expires_at, tags
 * <tenant prefix>cache:keys            ZSET  cache_key -> 0              (lexicographic key index)
 * <tenant prefix>cache:expiry          ZSET  cache_key -> expires_at_ms  (expiry index)
 * <tenant prefix>cache:tag:<tag>       ZSET  cache_key -> expires_at_ms  (one per tag)
 * <tenant prefix>cache:tags            SET   tags that may have members   (walked by the sweeper)
 * <tenant prefix>cache:stats           HASH  hits, misses
 * ```
 */
export class CacheKeyspace {
  readonly entryPrefix: string;
  /**
   * ZSET cache_key -> 0: every entry in byte order, walked by pattern invalidation with an exclusive
   * lexicographic cursor (a literal prefix narrows the walk to matching keys).
   */
  readonly index: string;
  /** ZSET cache_key -> expires_at_ms: drives expiry clean-up. */
  readonly expiry: string;
  readonly tagPrefix: string;
  /** SET of tag names whose index may hold members, so expired ones can be swept. */
  readonly tagRegistry: string;
  /** HASH hits / misses: feeds the cache_hit_ratio metric. */
  readonly stats: string;

  constructor(readonly tenantPrefix: string) {
    this.entryPrefix = `${tenantPrefix}cache:e:`;
    this.index = `${tenantPrefix}cache:keys`;
    this.expiry = `${tenantPrefix}cache:expiry`;
    this.tagPrefix = `${tenantPrefix}cache:tag:`;
    this.tagRegistry = `${tenantPrefix}cache:tags`;
    this.stats = `${tenantPrefix}cache:stats`;
  }

  entry(cacheKey: string): string {
    return this.entryPrefix + checked('cache key', cacheKey);
  }

  tag(tag: string): string {
    return this.tagPrefix + checked('cache tag', tag);
  }

  /** Order matters: the Lua prelude reads these positions (see cache.scripts.ts). */
  scriptLayout(): string[] {
    return [
      this.entryPrefix,
      this.index,
      this.expiry,
      this.tagPrefix,
      this.tagRegistry,
      this.stats,
    ];
  }
}

export class InvalidCacheKeyError extends Error {
  constructor(part: string, value: string) {
    super(`invalid ${part}: ${JSON.stringify(value)} ${CACHE_KEY_RULE}`);
    this.name = 'InvalidCacheKeyError';
  }
}

function checked(part: string, value: string): string {
  if (!CACHE_KEY_PATTERN.test(value)) throw new InvalidCacheKeyError(part, value);
  return value;
}
