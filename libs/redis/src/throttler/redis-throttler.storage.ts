import { Inject, Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { Cluster } from 'ioredis';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type { RedisClient } from '../connection/redis-client.factory';
import { REDIS_CLIENT } from '../redis.constants';
import { storeCall } from '../store-errors';

/**
 * Rate-limit counters in Redis, so limits hold across replicas. Delegates to the maintained
 * @nest-lab storage (one atomic Lua call per hit, Cluster-safe hash-tagged keys) over the shared
 * connection, and reports an unreachable Redis as StoreUnavailableError (503) like every other call.
 */
@Injectable()
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly storage: ThrottlerStorageRedisService;

  constructor(@Inject(REDIS_CLIENT) redis: RedisClient) {
    // Its constructor overloads take Redis and Cluster separately.
    this.storage =
      redis instanceof Cluster
        ? new ThrottlerStorageRedisService(redis)
        : new ThrottlerStorageRedisService(redis);
  }

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    return storeCall(() => this.storage.increment(key, ttl, limit, blockDuration, throttlerName));
  }
}
