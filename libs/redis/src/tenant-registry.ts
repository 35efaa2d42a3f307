import { createHash } from 'node:crypto';
import type { RedisClient } from './connection/redis-client.factory';
import type { RedisKeyBuilder } from './keys/redis-key-builder';
import { storeCall, StoreUnavailableError } from './store-errors';

/** Shards of the registry: enough to spread registrations over a Cluster's masters. */
export const TENANT_REGISTRY_SHARDS = 16;
/** How long a process trusts its own registration before it writes it again. */
export const TENANT_REGISTRATION_REFRESH_MS = 60_000;

/**
 * When this process last wrote each tenant's registration, per Redis client: shared by every
 * repository of the process, so a departure seen by the sweeper is seen by all of them.
 */
const registrations = new WeakMap<RedisClient, Map<string, number>>();

export interface TenantRegistryOptions {
  refreshMs?: number;
  now?: () => number;
}

/**
 * The tenants that have stored data, walked by the background sweepers.
 *
 * Cheap to keep: a tenant lives in one of {@link TENANT_REGISTRY_SHARDS} SETs chosen by a hash of
 * its name (each its own Cluster slot), and a write does not touch them at all while the tenant's
 * registration marker (a key in the tenant's own slot) exists. The write scripts of creates declare
 * the marker and report whether it exists, in the same atomic step as the write (no round trip of
 * its own); other writers check it with one EXISTS where the write went anyway. Only a missing marker (first write, after a departure, after Redis lost the data) costs
 * an SADD, plus one per `refreshMs` per process, which re-registers a tenant whose shard entry was
 * lost while its marker survived (a failover on Cluster, where the two live on different masters).
 *
 * It also shrinks: a sweeper calls {@link leaveIfEmpty} for a tenant whose indexes are all gone.
 * Losing a registration only delays background sweeping of that tenant; reads and lists purge what
 * they meet on their own.
 */
export class TenantRegistry {
  private readonly registered: Map<string, number>;
  private readonly refreshMs: number;
  private readonly now: () => number;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeyBuilder,
    options: TenantRegistryOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? TENANT_REGISTRATION_REFRESH_MS;
    this.now = options.now ?? Date.now;
    let registered = registrations.get(redis);
    if (!registered) {
      registered = new Map();
      registrations.set(redis, registered);
    }
    this.registered = registered;
  }

  /** The shard key holding `tenant`. */
  shardOf(tenant: string): string {
    const hash = createHash('sha1').update(tenant).digest().readUInt32BE(0);
    return this.keys.tenantRegistryShard(hash % TENANT_REGISTRY_SHARDS);
  }

  /** The registration marker a write script declares in KEYS when it reports the marker (see add). */
  markerOf(tenant: string): string {
    return this.keys.tenantRegistration(tenant);
  }

  /**
   * Registers `tenant`. Called after a write landed, never before: a departure that removes the
   * tenant after this call's check re-checks for data and finds the write (see leaveIfEmpty).
   * `markerSeen`: whether the marker existed, as the write's own script saw it in the same atomic
   * step as the write (so no EXISTS of its own is needed); a departure deletes the marker before it
   * checks for data, so a marker seen with the write means that check will see the write too.
   * A store failure here is not the write's failure: the marker stays unset and the next write
   * registers the tenant.
   */
  async add(tenant: string, markerSeen?: boolean): Promise<void> {
    const marker = this.keys.tenantRegistration(tenant);
    try {
      const at = this.registered.get(tenant);
      const due = at === undefined || this.now() - at >= this.refreshMs;
      if (!due && (markerSeen ?? (await storeCall(() => this.redis.exists(marker))) === 1)) return;
      await storeCall(() => this.redis.sadd(this.shardOf(tenant), tenant));
      await storeCall(() => this.redis.set(marker, '1'));
      this.registered.set(tenant, this.now());
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
    }
  }

  async *list(): AsyncIterable<string[]> {
    const keys = [
      ...Array.from({ length: TENANT_REGISTRY_SHARDS }, (_, i) => this.keys.tenantRegistryShard(i)),
      this.keys.tenantRegistry(),
    ];
    for (const key of keys) {
      let cursor = '0';
      do {
        const [next, batch] = await storeCall(() => this.redis.sscan(key, cursor, 'COUNT', 100));
        cursor = next;
        if (batch.length > 0) yield batch;
      } while (cursor !== '0');
    }
  }

  /**
   * Takes `tenant` out of the registry when it holds no data (every index, expiry set and its audit
   * stream gone). The registry lives in other slots than the tenant's keys, so this cannot be one
   * atomic step; it is safe against concurrent writes instead, from any process: the marker goes
   * first, then the shard entry, then the tenant is checked again. A write that landed before that
   * check is seen by it (the tenant is put back); one that landed after it registers by itself,
   * since it finds the marker gone. Returns true when the tenant left.
   */
  async leaveIfEmpty(tenant: string): Promise<boolean> {
    if (!(await this.isEmpty(tenant))) return false;
    const shard = this.shardOf(tenant);
    await storeCall(() => this.redis.del(this.keys.tenantRegistration(tenant)));
    await storeCall(() => this.redis.srem(shard, tenant));
    await storeCall(() => this.redis.srem(this.keys.tenantRegistry(), tenant));
    this.registered.delete(tenant);
    if (await this.isEmpty(tenant)) return true;
    await storeCall(() => this.redis.sadd(shard, tenant));
    await storeCall(() => this.redis.set(this.keys.tenantRegistration(tenant), '1'));
    return false;
  }

  private async isEmpty(tenant: string): Promise<boolean> {
    const sessions = this.keys.sessions(tenant);
    const memory = this.keys.memory(tenant);
    const cache = this.keys.cache(tenant);
    const audit = this.keys.audit(tenant);
    // One EXISTS over keys of one slot: every live record has an entry in its expiry set.
    const present = await storeCall(() =>
      this.redis.exists(
        sessions.all,
        sessions.expiry,
        sessions.members,
        memory.members,
        memory.expiry,
        cache.index,
        cache.expiry,
        cache.tagRegistry,
        audit.stream,
      ),
    );
    return present === 0;
  }
}
