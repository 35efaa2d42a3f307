import { Injectable, Logger } from '@nestjs/common';
import { StoreStatisticsReader } from '@app/redis';
import { apiMetrics, type ApiMetrics } from './prometheus.metrics';

/** Statuses the sessions_by_status gauge reports (status is free-form; labels stay bounded). */
export const REPORTED_STATUSES = [
  'created',
  'active',
  'running',
  'paused',
  'completed',
  'failed',
  'cancelled',
] as const;
/** A session in one of these has ended; every other live session counts as active. */
const ENDED_STATUSES = ['completed', 'failed', 'cancelled'];
/** Index counts are at most this old when scraped (several scrapers share one read). */
export const GAUGE_MAX_AGE_MS = 5000;
/** Tenants counted per refresh; beyond this, gauges undercount (see store_tenants_counted). */
const MAX_TENANTS = 1000;

/**
 * Refreshes the gauges that need Redis (connection, memory, index sizes) when /metrics is
 * scraped, at most once per {@link GAUGE_MAX_AGE_MS}: a handful of pipelined ZCARDs per tenant
 * and two INFO calls, never a scan of records and never anything per API request.
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
    const stats = await this.statistics.read(REPORTED_STATUSES, MAX_TENANTS);
    const m = this.metrics;
    m.redisUp.set(stats.connected ? 1 : 0);
    if (!stats.connected) return;
    if (stats.usedMemoryBytes !== undefined) m.redisMemoryUsed.set(stats.usedMemoryBytes);
    if (stats.maxMemoryBytes !== undefined) m.redisMemoryMax.set(stats.maxMemoryBytes);
    if (stats.evictedKeys !== undefined) m.redisEvictedKeys.set(stats.evictedKeys);
    m.sessionsStored.set(stats.sessions);
    const ended = ENDED_STATUSES.reduce((n, s) => n + (stats.sessionsByStatus.get(s) ?? 0), 0);
    m.sessionsActive.set(Math.max(0, stats.sessions - ended));
    for (const [status, count] of stats.sessionsByStatus)
      m.sessionsByStatus.labels(status).set(count);
    m.memoryRecords.set(stats.memoryRecords);
    m.cacheEntries.set(stats.cacheEntries);
    m.storeTenantsCounted.set(stats.tenantsCounted);
  }
}
