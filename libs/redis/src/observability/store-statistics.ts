import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../connection/redis-client.factory';
import { RedisKeyBuilder } from '../keys/redis-key-builder';
import { REDIS_CLIENT } from '../redis.constants';
import { storeCall } from '../store-errors';
import { TenantRegistry } from '../tenant-registry';

/** Figures for the gauges of /metrics, read from Redis' INFO and the existing index sizes. */
export interface StoreStatistics {
  connected: boolean;
  usedMemoryBytes?: number;
  /** 0 when Redis runs without maxmemory. */
  maxMemoryBytes?: number;
  evictedKeys?: number;
  /** Tenants whose indexes were counted (at most the limit given). */
  tenantsCounted: number;
  sessions: number;
  sessionsByStatus: Map<string, number>;
  memoryRecords: number;
  cacheEntries: number;
}

/**
 * Counts what the gauges show without looking at records: per tenant, one pipelined ZCARD per
 * index (sessions, sessions of each given status, memory records, cache entries). Cost grows with
 * the number of tenants, capped by `maxTenants`, never with the number of records.
 */
@Injectable()
export class StoreStatisticsReader {
  private readonly registry: TenantRegistry;

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    private readonly keys: RedisKeyBuilder,
  ) {
    this.registry = new TenantRegistry(redis, keys);
  }

  /** The connection's state as ioredis sees it; no round trip. */
  isConnected(): boolean {
    return this.redis.status === 'ready';
  }

  async read(statuses: readonly string[], maxTenants: number): Promise<StoreStatistics> {
    const stats: StoreStatistics = {
      connected: this.isConnected(),
      tenantsCounted: 0,
      sessions: 0,
      sessionsByStatus: new Map(statuses.map((status) => [status, 0])),
      memoryRecords: 0,
      cacheEntries: 0,
    };
    if (!stats.connected) return stats;
    const info = await storeCall(() => this.redis.info('memory'));
    stats.usedMemoryBytes = infoNumber(info, 'used_memory');
    stats.maxMemoryBytes = infoNumber(info, 'maxmemory');
    stats.evictedKeys = infoNumber(await storeCall(() => this.redis.info('stats')), 'evicted_keys');

    const tenants: string[] = [];
    for await (const batch of this.registry.list()) {
      tenants.push(...batch.slice(0, maxTenants - tenants.length));
      if (tenants.length >= maxTenants) break;
    }
    stats.tenantsCounted = tenants.length;
    const counts = await Promise.all(tenants.map((tenant) => this.countTenant(tenant, statuses)));
    for (const [sessions, byStatus, memory, cache] of counts) {
      stats.sessions += sessions;
      byStatus.forEach((n, i) =>
        stats.sessionsByStatus.set(statuses[i], (stats.sessionsByStatus.get(statuses[i]) ?? 0) + n),
      );
      stats.memoryRecords += memory;
      stats.cacheEntries += cache;
    }
    return stats;
  }

  private async countTenant(
    tenant: string,
    statuses: readonly string[],
  ): Promise<[number, number[], number, number]> {
    const sessions = this.keys.sessions(tenant);
    const pipeline = this.redis.pipeline();
    pipeline.zcard(sessions.all);
    for (const status of statuses) pipeline.zcard(sessions.byStatus(status));
    pipeline.zcard(this.keys.memory(tenant).members);
    pipeline.zcard(this.keys.cache(tenant).index);
    const replies = (await storeCall(() => pipeline.exec())) ?? [];
    const values = replies.map(([error, value]) => (error ? 0 : Number(value)));
    return [
      values[0],
      values.slice(1, 1 + statuses.length),
      values[1 + statuses.length],
      values[2 + statuses.length],
    ];
  }
}

function infoNumber(info: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(info);
  return match ? Number(match[1]) : undefined;
}
