import type { RedisClient } from '../connection/redis-client.factory';
import type { RedisKeyBuilder } from '../keys/redis-key-builder';

const FLUSH_INTERVAL_MS = 2000;

interface Pending {
  hits: number;
  misses: number;
}

/**
 * Cache hit/miss counters kept in process and added to the tenant's stats hash in the background.
 * A read never writes to Redis: counting inside the GET would make every cache read fail while
 * Redis refuses writes (maxmemory, a failover's read-only phase), and replicate for nothing.
 * Counts that could not be flushed stay pending and go with the next flush; a crash loses at most
 * one interval of counts, which a statistic can afford.
 */
export class CacheStatsBuffer {
  private readonly pending = new Map<string, Pending>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeyBuilder,
    private readonly intervalMs = FLUSH_INTERVAL_MS,
  ) {}

  record(tenant: string, hits: number, misses: number): void {
    if (hits === 0 && misses === 0) return;
    const counts = this.pending.get(tenant) ?? { hits: 0, misses: 0 };
    counts.hits += hits;
    counts.misses += misses;
    this.pending.set(tenant, counts);
    if (!this.timer) {
      this.timer = setInterval(() => void this.flush(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Counts not yet in Redis, so a stats read right after a GET already includes it. */
  unflushed(tenant: string): Pending {
    return { ...(this.pending.get(tenant) ?? { hits: 0, misses: 0 }) };
  }

  /** Adds what is pending to Redis; what fails stays pending. Never throws. */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async flushOnce(): Promise<void> {
    const batch = [...this.pending.entries()];
    if (batch.length === 0) return;
    this.pending.clear();
    const pipeline = this.redis.pipeline();
    for (const [tenant, counts] of batch) {
      const stats = this.keys.cache(tenant).stats;
      pipeline.hincrby(stats, 'hits', counts.hits).hincrby(stats, 'misses', counts.misses);
    }
    const results = await pipeline.exec().catch(() => null);
    batch.forEach(([tenant, counts], i) => {
      const failed =
        results === null || results[i * 2]?.[0] !== null || results[i * 2 + 1]?.[0] !== null;
      if (failed) this.record(tenant, counts.hits, counts.misses);
    });
  }
}
