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

  /**
   * Registers the tenant and runs `write` in the same turn, so that both go to Redis in one flush
   * (one round trip, not two). The SADD is sent first. The write's outcome is the answer: a
   * registration refused while the write succeeded is dropped (it only delays sweeping, see above),
   * never reported as a failed write of stored data.
   */
  async alongside<T>(tenant: string, write: () => Promise<T>): Promise<T> {
    const [, written] = await Promise.allSettled([this.add(tenant), write()]);
    if (written.status === 'rejected') throw written.reason;
    return written.value;
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
