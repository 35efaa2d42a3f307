import { Injectable, Logger } from '@nestjs/common';
import { StoreStatisticsReader } from '@app/redis';
import { apiMetrics, type ApiMetrics } from './prometheus.metrics';
import { ENDED_STATUSES, REPORTED_STATUSES } from './session-statuses';
/** Index counts are at most this old when scraped (several scrapers share one read). */
export const GAUGE_MAX_AGE_MS = 5000;
/**
 * Tenants counted per refresh (beyond, gauges undercount: see store_tenants_counted); the largest
 * tenants sampled for the stored-bytes estimates, and records sampled per tenant and entity.
 */
const LIMITS = { maxTenants: 1000, sampledTenants: 20, samplesPerTenant: 5 };

/**
 * Refreshes the gauges that need Redis (connection, memory, index sizes, stored-bytes estimates)
 * when /metrics is scraped, at most once per {@link GAUGE_MAX_AGE_MS}: two INFO calls per primary,
 * one pipelined batch of index sizes and random members per tenant, MEMORY USAGE of a bounded
 * sample; never a scan of records and never anything per API request.
 */
@Injectable()
export class StoreGauges {
  private readonly logger = new Logger(StoreGauges.name);
  private refreshedAt = 0;
  private pending?: Promise<void>;
  private readonly metrics: ApiMetrics = apiMetrics();

  constructor(private readonly statistics: StoreStatisticsReader) {}

  refresh(now = Date.now()): Promise<void> {
    this.metrics.redisUp.set(this.statistics.isConnected() ? 1 : 0);
    // Connection states cost no round trip: fresh on every scrape.
    for (const { client, connections } of this.statistics.connections()) {
      for (const [state, count] of Object.entries(connections)) {
        this.metrics.redisConnections.labels(client, state).set(count);
      }
    }
    if (this.pending) return this.pending;
    if (now - this.refreshedAt < GAUGE_MAX_AGE_MS) return Promise.resolve();
    this.pending = this.read()
      .catch((error: unknown) => {
        // The scrape still answers: redis_up says why the index gauges are stale.
        this.logger.warn(`store gauges not refreshed: ${String(error)}`);
      })
      .finally(() => {
        this.refreshedAt = Date.now();
        this.pending = undefined;
      });
    return this.pending;
  }

  private async read(): Promise<void> {
    const stats = await this.statistics.read(REPORTED_STATUSES, LIMITS);
    const m = this.metrics;
    m.redisUp.set(stats.connected ? 1 : 0);
    if (!stats.connected) return;
    // A primary gone from the Cluster (failover, resharding) must not keep its last figures.
    m.redisMemoryUsed.reset();
    m.redisMemoryMax.reset();
    m.redisEvictedKeys.reset();
    for (const primary of stats.primaries) {
      const { node, usedMemoryBytes, maxMemoryBytes, evictedKeys } = primary;
      if (usedMemoryBytes !== undefined) m.redisMemoryUsed.labels(node).set(usedMemoryBytes);
      if (maxMemoryBytes !== undefined) m.redisMemoryMax.labels(node).set(maxMemoryBytes);
      if (evictedKeys !== undefined) m.redisEvictedKeys.labels(node).set(evictedKeys);
    }
    m.sessionsStored.set(stats.sessions);
    let ended = 0;
    for (const status of ENDED_STATUSES) ended += stats.sessionsByStatus.get(status) ?? 0;
    m.sessionsActive.set(Math.max(0, stats.sessions - ended));
    for (const [status, count] of stats.sessionsByStatus)
      m.sessionsByStatus.labels(status).set(count);
    m.memoryRecords.set(stats.memoryRecords);
    m.cacheEntries.set(stats.cacheEntries);
    if (stats.memoryBytes !== undefined) m.memoryStoredBytes.set(stats.memoryBytes);
    if (stats.cacheBytes !== undefined) m.cacheStoredBytes.set(stats.cacheBytes);
    m.storeTenantsCounted.set(stats.tenantsCounted);
    m.storeTenantsSampled.set(stats.tenantsSampled);
  }
}
