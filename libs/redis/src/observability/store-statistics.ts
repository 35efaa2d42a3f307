import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { primaries, type RedisClient } from '../connection/redis-client.factory';
import { RedisKeyBuilder } from '../keys/redis-key-builder';
import { REDIS_CLIENT } from '../redis.constants';
import { storeCall, storePipeline } from '../store-errors';
import { TenantRegistry } from '../tenant-registry';
import { ConnectionStates, type ClientConnections } from './connection-states';
import { estimateBytes, type SampledCount } from './size-estimate';

/** INFO figures of one primary. */
export interface PrimaryMemory {
  /** host:port of the primary (the Sentinel master name behind Sentinel). */
  node: string;
  usedMemoryBytes?: number;
  /** 0 when the primary runs without maxmemory. */
  maxMemoryBytes?: number;
  evictedKeys?: number;
}

/** Figures for the gauges of /metrics, read from INFO and the existing index sizes. */
export interface StoreStatistics {
  connected: boolean;
  /** Every primary: the one server, or every master of a Cluster. */
  primaries: PrimaryMemory[];
  /** Tenants whose indexes were counted (at most the limit given). */
  tenantsCounted: number;
  sessions: number;
  sessionsByStatus: Map<string, number>;
  memoryRecords: number;
  cacheEntries: number;
  /**
   * Estimated bytes of the memory records' keys (record, data and size hashes) and of the cache
   * entries' keys, indexes excluded; undefined when the sample could not be taken (e.g. MEMORY is
   * not allowed to the API's Redis user).
   */
  memoryBytes?: number;
  cacheBytes?: number;
  /** Tenants whose records were sampled for the byte estimates (per entity, at most the limit). */
  tenantsSampled: number;
}

export interface StatisticsLimits {
  /** Tenants counted per read; beyond, the counts are partial (see tenantsCounted). */
  maxTenants: number;
  /** The largest tenants whose records are sampled with MEMORY USAGE; the rest use their mean. */
  sampledTenants: number;
  /** Random records per sampled tenant and entity. */
  samplesPerTenant: number;
}

interface TenantCounts {
  tenant: string;
  sessions: number;
  byStatus: number[];
  memory: number;
  cache: number;
  memorySample: string[];
  cacheSample: string[];
}

/**
 * Reads what the gauges show without looking at every record: INFO of every primary; per tenant,
 * one pipelined batch of index sizes (ZCARD/HLEN) with a few random members (HRANDFIELD,
 * ZRANDMEMBER); then MEMORY USAGE of those members' keys for the largest tenants. Cost grows with
 * the number of tenants, capped by the limits, never with the number of records.
 */
@Injectable()
export class StoreStatisticsReader {
  private readonly registry: TenantRegistry;
  private readonly connectionStates = new ConnectionStates();

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    private readonly keys: RedisKeyBuilder,
  ) {
    this.registry = new TenantRegistry(redis, keys);
    this.connectionStates.register('main', redis);
  }

  /** Reports another client's connections (e.g. a subscriber) under `name` (a bounded label). */
  registerClient(name: string, client: RedisClient): void {
    this.connectionStates.register(name, client);
  }

  /** The connection's state as ioredis sees it; no round trip. */
  isConnected(): boolean {
    return this.redis.status === 'ready';
  }

  /** Connections of every registered client by state; no round trip. */
  connections(): ClientConnections[] {
    return this.connectionStates.read();
  }

  async read(statuses: readonly string[], limits: StatisticsLimits): Promise<StoreStatistics> {
    const stats: StoreStatistics = {
      connected: this.isConnected(),
      primaries: [],
      tenantsCounted: 0,
      sessions: 0,
      sessionsByStatus: new Map(statuses.map((status) => [status, 0])),
      memoryRecords: 0,
      cacheEntries: 0,
      tenantsSampled: 0,
    };
    if (!stats.connected) return stats;
    stats.primaries = await Promise.all(primaries(this.redis).map(readPrimary));

    const tenants: string[] = [];
    for await (const batch of this.registry.list()) {
      tenants.push(...batch.slice(0, limits.maxTenants - tenants.length));
      if (tenants.length >= limits.maxTenants) break;
    }
    stats.tenantsCounted = tenants.length;
    const counts = await Promise.all(
      tenants.map((tenant) => this.countTenant(tenant, statuses, limits.samplesPerTenant)),
    );
    for (const tenant of counts) {
      stats.sessions += tenant.sessions;
      tenant.byStatus.forEach((n, i) =>
        stats.sessionsByStatus.set(statuses[i], (stats.sessionsByStatus.get(statuses[i]) ?? 0) + n),
      );
      stats.memoryRecords += tenant.memory;
      stats.cacheEntries += tenant.cache;
    }
    Object.assign(stats, await this.estimateSizes(counts, limits.sampledTenants));
    return stats;
  }

  private async countTenant(
    tenant: string,
    statuses: readonly string[],
    samples: number,
  ): Promise<TenantCounts> {
    const sessions = this.keys.sessions(tenant);
    const memory = this.keys.memory(tenant);
    const cache = this.keys.cache(tenant);
    const pipeline = this.redis.pipeline();
    pipeline.zcard(sessions.all);
    for (const status of statuses) pipeline.zcard(sessions.byStatus(status));
    pipeline.hlen(memory.members);
    pipeline.zcard(cache.index);
    pipeline.hrandfield(memory.members, samples);
    pipeline.zrandmember(cache.index, samples);
    const replies = await storePipeline(pipeline);
    const n = statuses.length;
    return {
      tenant,
      sessions: Number(replies[0]),
      byStatus: replies.slice(1, 1 + n).map(Number),
      memory: Number(replies[1 + n]),
      cache: Number(replies[2 + n]),
      memorySample: replies[3 + n] as string[],
      cacheSample: replies[4 + n] as string[],
    };
  }

  /**
   * MEMORY USAGE of the sampled members' keys, for the `sampledTenants` tenants with the most
   * records of each kind: one pipeline per tenant (its keys share a slot). A member deleted since
   * it was drawn answers nil and is left out of the sample.
   */
  private async estimateSizes(
    counts: TenantCounts[],
    sampledTenants: number,
  ): Promise<Pick<StoreStatistics, 'memoryBytes' | 'cacheBytes' | 'tenantsSampled'>> {
    const largest = (count: (t: TenantCounts) => number) =>
      new Set(
        [...counts]
          .filter((t) => count(t) > 0)
          .sort((a, b) => count(b) - count(a))
          .slice(0, sampledTenants),
      );
    const memoryTenants = largest((t) => t.memory);
    const cacheTenants = largest((t) => t.cache);
    try {
      const sampled = await Promise.all(
        counts.map((t) =>
          this.sampleTenant(t, memoryTenants.has(t), cacheTenants.has(t)).then(
            ([memory, cache]) => ({ memory, cache }),
          ),
        ),
      );
      return {
        memoryBytes: estimateBytes(sampled.map((s) => s.memory)),
        cacheBytes: estimateBytes(sampled.map((s) => s.cache)),
        tenantsSampled: Math.max(memoryTenants.size, cacheTenants.size),
      };
    } catch {
      // Counts stay right without MEMORY (some managed Redis deny it); only the estimates go.
      return { tenantsSampled: 0 };
    }
  }

  private async sampleTenant(
    counts: TenantCounts,
    memory: boolean,
    cache: boolean,
  ): Promise<[SampledCount, SampledCount]> {
    const memoryKeys = this.keys.memory(counts.tenant);
    const cacheKeys = this.keys.cache(counts.tenant);
    const memorySample = memory ? counts.memorySample : [];
    const cacheSample = cache ? counts.cacheSample : [];
    if (memorySample.length + cacheSample.length === 0) {
      return [
        { count: counts.memory, samples: [] },
        { count: counts.cache, samples: [] },
      ];
    }
    const pipeline = this.redis.pipeline();
    for (const member of memorySample) {
      pipeline.memory('USAGE', memoryKeys.recordPrefix + member);
      pipeline.memory('USAGE', memoryKeys.dataPrefix + member);
      pipeline.memory('USAGE', memoryKeys.sizePrefix + member);
    }
    for (const key of cacheSample) pipeline.memory('USAGE', cacheKeys.entryPrefix + key);
    const usage = (await storePipeline(pipeline)) as (number | null)[];
    const memorySamples: number[] = [];
    for (let i = 0; i < memorySample.length; i++) {
      const [record, data, sizes] = usage.slice(i * 3, i * 3 + 3);
      if (record !== null) memorySamples.push(record + (data ?? 0) + (sizes ?? 0));
    }
    const cacheSamples = usage
      .slice(memorySample.length * 3)
      .filter((bytes): bytes is number => bytes !== null);
    return [
      { count: counts.memory, samples: memorySamples },
      { count: counts.cache, samples: cacheSamples },
    ];
  }
}

async function readPrimary(node: Redis): Promise<PrimaryMemory> {
  const [memory, stats] = await Promise.all([
    storeCall(() => node.info('memory')),
    storeCall(() => node.info('stats')),
  ]);
  const { host, port, name, sentinels } = node.options;
  return {
    node: sentinels && name ? name : `${host ?? 'localhost'}:${port ?? 6379}`,
    usedMemoryBytes: infoNumber(memory, 'used_memory'),
    maxMemoryBytes: infoNumber(memory, 'maxmemory'),
    evictedKeys: infoNumber(stats, 'evicted_keys'),
  };
}

function infoNumber(info: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(info);
  return match ? Number(match[1]) : undefined;
}
