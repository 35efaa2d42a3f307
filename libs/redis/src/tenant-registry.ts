import type { RedisClient } from './connection/redis-client.factory';
import type { RedisKeyBuilder } from './keys/redis-key-builder';
import { storeCall } from './store-errors';

/**
 * The SET of tenants that have stored data, walked by the background sweepers. It lives in its own
 * slot, so writes register a tenant outside their scripts. Losing a registration only delays
 * sweeping for that tenant; reads and lists clean up lazily anyway. Every write registers again
 * (one SADD), so a tenant reappears even after Redis lost its data.
 */
export class TenantRegistry {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeyBuilder,
  ) {}

  async add(tenant: string): Promise<void> {
    await storeCall(() => this.redis.sadd(this.keys.tenantRegistry(), tenant));
  }

  async *list(): AsyncIterable<string[]> {
    let cursor = '0';
    do {
      const [next, batch] = await storeCall(() =>
        this.redis.sscan(this.keys.tenantRegistry(), cursor, 'COUNT', 100),
      );
      cursor = next;
      if (batch.length > 0) yield batch;
    } while (cursor !== '0');
  }
}
