import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from './connection/redis-client.factory';
import { REDIS_CLIENT } from './redis.constants';
import { storeCall } from './store-errors';

export interface RedisHealthReport {
  connection: string;
  latencyMs: number;
  usedMemoryBytes?: number;
  version?: string;
}

/** What health checks may learn about Redis, without handing them the client. */
@Injectable()
export class RedisHealthProbe {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: RedisClient) {}

  /** Round-trip time of a PING; throws StoreUnavailableError when Redis does not answer. */
  async ping(): Promise<number> {
    const started = process.hrtime.bigint();
    await storeCall(() => this.redis.ping());
    return Number(process.hrtime.bigint() - started) / 1e6;
  }

  async report(): Promise<RedisHealthReport> {
    const latencyMs = await this.ping();
    const info = await storeCall(() => this.redis.info('memory'));
    const server = await storeCall(() => this.redis.info('server'));
    return {
      connection: this.redis.status,
      latencyMs,
      usedMemoryBytes: Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN) || undefined,
      version: /redis_version:([^\r\n]+)/.exec(server)?.[1],
    };
  }
}
