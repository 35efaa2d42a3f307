import { Inject, Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { Cluster } from 'ioredis';
import type { RedisClient } from '../connection/redis-client.factory';
import { LuaScript } from '../lua-script';
import { REDIS_CLIENT } from '../redis.constants';
import { storeCall } from '../store-errors';

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

  constructor(@Inject(REDIS_CLIENT) private readonly redis: RedisClient) {
    // Only the library's script is used; its constructor overloads take Redis and Cluster apart.
    const library =
      redis instanceof Cluster
        ? new ThrottlerStorageRedisService(redis)
        : new ThrottlerStorageRedisService(redis);
    this.script = new LuaScript('throttler.increment', library.scriptSrc);
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    // Same key layout as the library: both keys share one hash tag (one slot on Cluster).
    const keys = [`{${key}:${throttlerName}}:hits`, `{${key}:${throttlerName}}:blocked`];
    const reply = await storeCall(() =>
      this.script.run(this.redis, keys, [throttlerName, ttl, limit, blockDuration]),
    );
    const [totalHits, timeToExpire, isBlocked, timeToBlockExpire] = reply as number[];
    return {
      totalHits,
      timeToExpire: Math.ceil(timeToExpire / 1000),
      isBlocked: isBlocked === 1,
      timeToBlockExpire: Math.ceil(timeToBlockExpire / 1000),
    };
  }
}
