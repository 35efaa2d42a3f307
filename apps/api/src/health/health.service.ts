import {
  Inject,
  Injectable,
  Optional,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { RedisHealthProbe, type RedisHealthReport } from '@app/redis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import {
  PerformanceSnapshotSource,
  type PerformanceSnapshot,
} from '../common/observability/performance-snapshot';
import { ShutdownState } from '../lifecycle/shutdown-state';
import { apiMetrics } from '../metrics/prometheus.metrics';
import type {
  ApiComponentDto,
  CacheComponentDto,
  DetailedHealthDto,
  HealthStatus,
  RedisComponentDto,
} from './health.dto';

/** The window performance_metrics covers ("the last minutes"). */
export const PERFORMANCE_WINDOW_SECONDS = 300;

const RANK: Record<HealthStatus, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

/** The worse of the given statuses. */
export function worst(...statuses: HealthStatus[]): HealthStatus {
  return statuses.reduce((a, b) => (RANK[b] > RANK[a] ? b : a), 'healthy');
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** Builds the plan's detailed health ("4.1 System Health", "1.2 Health Monitoring"). */
@Injectable()
export class HealthService implements OnModuleInit, OnApplicationShutdown {
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });

  constructor(
    private readonly probe: RedisHealthProbe,
    private readonly shutdown: ShutdownState,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    // Bound by the metrics module when it is loaded; the health page says so when it is not.
    @Optional() private readonly performance?: PerformanceSnapshotSource,
  ) {}

  onModuleInit(): void {
    this.loopDelay.enable();
  }

  onApplicationShutdown(): void {
    this.loopDelay.disable();
  }

  async detailed(): Promise<DetailedHealthDto> {
    const [redisReport, performance, hitRatio] = await Promise.all([
      this.probe
        .report()
        .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))),
      this.performanceMetrics(),
      cacheHitRatio(),
    ]);
    const redis = this.redisComponent(redisReport);
    const cache = { ...this.cacheComponent(redisReport), hit_ratio: hitRatio };
    const api = this.apiComponent();
    return {
      status: worst(redis.status, cache.status, api.status),
      timestamp: new Date().toISOString(),
      version: this.config.version,
      uptime_seconds: Math.floor(process.uptime()),
      components: { redis, api, cache },
      ...performance,
    };
  }

  private redisComponent(report: RedisHealthReport | Error): RedisComponentDto {
    if (report instanceof Error) {
      return { status: 'unhealthy', issues: [`Redis does not answer: ${report.message}`] };
    }
    const { topology } = report;
    return {
      status: report.failing ? 'unhealthy' : report.problems.length > 0 ? 'degraded' : 'healthy',
      response_time_ms: round2(report.latencyMs),
      used_memory_bytes: report.usedMemoryBytes,
      max_memory_bytes: report.maxMemoryBytes,
      connected_clients: report.connectedClients,
      version: report.version,
      role: topology.role,
      topology: {
        mode: topology.mode,
        connected_replicas: topology.connectedReplicas,
        master_name: topology.masterName,
        cluster_state: topology.clusterState,
        masters: topology.masters,
        replicas: topology.replicas,
        failing_nodes: topology.failingNodes,
      },
      issues: report.problems,
    };
  }

  /** The cache lives in Redis: healthy when Redis is, and when Redis will not drop entries. */
  private cacheComponent(report: RedisHealthReport | Error): Omit<CacheComponentDto, 'hit_ratio'> {
    if (report instanceof Error) {
      return {
        status: 'unhealthy',
        issues: ['the cache is stored in Redis, which does not answer'],
      };
    }
    const issues: string[] = [];
    if (report.maxMemoryPolicy !== undefined && report.maxMemoryPolicy !== 'noeviction') {
      issues.push(
        `maxmemory-policy is ${report.maxMemoryPolicy}: Redis may evict entries while their indexes stay (use noeviction)`,
      );
    }
    if (report.evictedKeys) issues.push(`Redis has evicted ${report.evictedKeys} keys`);
    return {
      status: issues.length > 0 ? 'degraded' : 'healthy',
      eviction_policy: report.maxMemoryPolicy,
      evicted_keys: report.evictedKeys,
      issues,
    };
  }

  private apiComponent(): ApiComponentDto {
    const p99 = this.loopDelay.percentile(99) / 1e6;
    this.loopDelay.reset();
    const draining = this.shutdown.draining;
    return {
      status: draining ? 'unhealthy' : 'healthy',
      shutting_down: draining,
      uptime_seconds: Math.floor(process.uptime()),
      in_flight_requests: this.shutdown.inFlight,
      event_loop_delay_p99_ms: round2(Number.isFinite(p99) ? p99 : 0),
      rss_bytes: process.memoryUsage.rss(),
      issues: draining ? ['shutting down: no longer ready for traffic'] : [],
    };
  }

  private async performanceMetrics(): Promise<
    Pick<DetailedHealthDto, 'performance_metrics' | 'performance_metrics_reason'>
  > {
    if (!this.performance) {
      return {
        performance_metrics: null,
        performance_metrics_reason: 'the metrics module is not loaded in this build',
      };
    }
    try {
      const snapshot: PerformanceSnapshot = await this.performance.snapshot(
        PERFORMANCE_WINDOW_SECONDS,
      );
      return { performance_metrics: snapshot };
    } catch (error) {
      return {
        performance_metrics: null,
        performance_metrics_reason: `metrics rollups unavailable: ${
          error instanceof Error ? error.message : String(error)
        }`,
      };
    }
  }
}

/**
 * Cache lookups answered from the cache on this replica since it started (the counters behind
 * masa_cache_operations_total); null before the first lookup.
 */
async function cacheHitRatio(): Promise<number | null> {
  const { values } = await apiMetrics().cacheOperations.get();
  let hits = 0;
  let misses = 0;
  for (const { labels, value } of values) {
    if (labels.result === 'hit') hits += value;
    else if (labels.result === 'miss') misses += value;
  }
  return hits + misses === 0 ? null : Math.round((hits / (hits + misses)) * 10_000) / 10_000;
}
