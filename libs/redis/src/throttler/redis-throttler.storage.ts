import { Inject, Injectable, Logger } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { Cluster } from 'ioredis';
import type { RedisClient } from '../connection/redis-client.factory';
import { LuaScript } from '../lua-script';
import { REDIS_CLIENT } from '../redis.constants';
import { StoreUnavailableError, storeCall, type StoreFailure } from '../store-errors';

/**
 * Redis is up and answering but refuses writes. The limiter then fails open (the request goes on
 * uncounted) so that reads keep answering while Redis is full or failing over; the data call
 * itself answers for its own write. Unreachable Redis still fails the request (503): nothing could
 * be served anyway.
 */
const FAIL_OPEN: ReadonlySet<StoreFailure> = new Set([
  'out_of_memory',
  'read_only',
  'persistence_failing',
  'replicas_missing',
]);
const FAIL_OPEN_LOG_INTERVAL_MS = 10_000;

/** Redis Cluster's rule: the first `{` and the next `}`, with something between, is the hash tag. */
const HAS_HASH_TAG = /^[^{]*\{[^}]+\}/;

const failOpenTotal = new Counter({
  name: 'masa_rate_limit_fail_open_total',
  help: 'Requests let through uncounted because Redis refused the rate-limit write',
  labelNames: ['failure'],
});

/**
 * Rate-limit counters in Redis, so limits hold across replicas. Runs the maintained
 * @nest-lab/throttler-storage-redis script (one atomic call per hit, Cluster-safe hash-tagged keys)
 * with two changes: it is sent by SHA (the library sends the whole script text with every request,
 * which showed up as the top CPU cost of a read in profiling), and an unreachable Redis is a
 * StoreUnavailableError (503) like every other call.
 */
@Injectable()
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly script: LuaScript;
  private readonly logger = new Logger('RateLimit');
  private lastFailOpenLog = 0;

  constructor(@Inject(REDIS_CLIENT) private readonly redis: RedisClient) {
    // Only the library's script is used; its constructor overloads take Redis and Cluster apart.
    const library =
      redis instanceof Cluster
        ? new ThrottlerStorageRedisService(redis)
        : new ThrottlerStorageRedisService(redis);
    // A counter lost in a failover lets a few requests through; waiting for replicas on every
    // request would cost more than that.
    this.script = new LuaScript('throttler.increment', library.scriptSrc, { awaitReplicas: false });
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    // Both keys share one hash tag (one slot on Cluster): the caller's own (a tenant's counters
    // sit in the tenant's slot), else the whole key's, as the library lays them out.
    const base = HAS_HASH_TAG.test(key) ? `${key}:${throttlerName}` : `{${key}:${throttlerName}}`;
    const keys = [`${base}:hits`, `${base}:blocked`];
    let reply: unknown;
    try {
      reply = await storeCall(() =>
        this.script.run(this.redis, keys, [throttlerName, ttl, limit, blockDuration]),
      );
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || !FAIL_OPEN.has(error.failure)) throw error;
      return this.failOpen(error, ttl);
    }
    const [totalHits, timeToExpire, isBlocked, timeToBlockExpire] = reply as number[];
    return {
      totalHits,
      timeToExpire: Math.ceil(timeToExpire / 1000),
      isBlocked: isBlocked === 1,
      timeToBlockExpire: Math.ceil(timeToBlockExpire / 1000),
    };
  }

  private failOpen(error: StoreUnavailableError, ttl: number): ThrottlerStorageRecord {
    failOpenTotal.inc({ failure: error.failure });
    const now = Date.now();
    if (now - this.lastFailOpenLog >= FAIL_OPEN_LOG_INTERVAL_MS) {
      this.lastFailOpenLog = now;
      this.logger.warn(`rate limits not enforced: Redis refuses writes (${error.failure})`);
    }
    return {
      totalHits: 0,
      timeToExpire: Math.ceil(ttl / 1000),
      isBlocked: false,
      timeToBlockExpire: 0,
    };
  }
}
