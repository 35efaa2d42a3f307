import { Injectable } from '@nestjs/common';
import {
  emptyLatencyRollup,
  RequestRollupRepository,
  USAGE_RETENTION_DAYS,
  type LatencyRollup,
} from '@app/redis';
import {
  PerformanceSnapshotSource,
  type PerformanceSnapshot,
} from '../common/observability/performance-snapshot';
import { InvalidRequestError } from '../common/errors/domain-errors';
import type { MetricType, TimeRange, UsageGroup } from './dto/metrics-query.dto';
import type {
  MetricsPointDto,
  MetricsReportDto,
  UsageEntryDto,
  UsageReportDto,
} from './dto/metrics-responses.dto';
import { latencyPercentile } from './latency-percentile';
import { mergeLatency, utcDay } from './request-rollups';

const RANGES: Record<TimeRange, { granularity: 'minute' | 'hour'; periods: number }> = {
  '1h': { granularity: 'minute', periods: 60 },
  '24h': { granularity: 'hour', periods: 24 },
  '7d': { granularity: 'hour', periods: 168 },
};
const PERIOD_MS = { minute: 60_000, hour: 3_600_000 };
const DAY_MS = 86_400_000;
/** A dashboard polling every second costs one read per this many milliseconds. */
const SNAPSHOT_CACHE_MS = 2000;

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * Reads the rollups every replica flushed (so figures cover the whole deployment, a few seconds
 * behind) and shapes the JSON metrics, the usage analytics and the health module's snapshot.
 */
@Injectable()
export class RollupReader extends PerformanceSnapshotSource {
  private cached?: { windowSeconds: number; at: number; value: Promise<PerformanceSnapshot> };

  constructor(private readonly rollups: RequestRollupRepository) {
    super();
  }

  snapshot(windowSeconds: number): Promise<PerformanceSnapshot> {
    const now = Date.now();
    if (this.cached?.windowSeconds === windowSeconds && now - this.cached.at < SNAPSHOT_CACHE_MS) {
      return this.cached.value;
    }
    const value = this.readSnapshot(windowSeconds, now);
    this.cached = { windowSeconds, at: now, value };
    value.catch(() => (this.cached = undefined));
    return value;
  }

  async metrics(range: TimeRange, type: MetricType | undefined): Promise<MetricsReportDto> {
    const { granularity, periods } = RANGES[range];
    const now = Date.now();
    const last = Math.floor(now / PERIOD_MS[granularity]);
    const first = last - periods + 1;
    const rollups = await this.rollups.latency(granularity, first, periods);
    return {
      metrics: rollups.map((rollup, i) =>
        point(rollup, (first + i) * PERIOD_MS[granularity], PERIOD_MS[granularity] / 1000, type),
      ),
      time_range: range,
      metric_type: type ?? null,
      granularity,
      collected_at: new Date(now).toISOString(),
    };
  }

  async usage(
    tenant: string,
    start: string | undefined,
    end: string | undefined,
    groupBy: UsageGroup,
  ): Promise<UsageReportDto> {
    const endMs = end === undefined ? Date.now() : Date.parse(end);
    const startMs = start === undefined ? endMs - 6 * DAY_MS : Date.parse(start);
    const firstDay = Math.floor(startMs / DAY_MS);
    const lastDay = Math.floor(endMs / DAY_MS);
    if (lastDay < firstDay)
      throw InvalidRequestError.field('end_date', 'must not be before start_date');
    if (lastDay - firstDay + 1 > USAGE_RETENTION_DAYS) {
      throw InvalidRequestError.field(
        'start_date',
        `the range may span at most ${USAGE_RETENTION_DAYS} days`,
      );
    }
    const days = Array.from({ length: lastDay - firstDay + 1 }, (_, i) =>
      utcDay((firstDay + i) * DAY_MS),
    );
    const [usage, uniqueUsers] = await Promise.all([
      this.rollups.usage(tenant, days),
      this.rollups.uniqueUsers(tenant, days),
    ]);

    const endpoints = new Map<string, { requests: number; errors: number }>();
    const users = new Map<string, number>();
    let total = 0;
    for (const day of usage) {
      for (const [endpoint, counts] of day.endpoints) {
        const sum = endpoints.get(endpoint) ?? { requests: 0, errors: 0 };
        sum.requests += counts.requests;
        sum.errors += counts.errors;
        endpoints.set(endpoint, sum);
        total += counts.requests;
      }
      for (const [user, n] of day.users) users.set(user, (users.get(user) ?? 0) + n);
    }
    const byRequests = <T extends { requests: number }>(a: T, b: T) => b.requests - a.requests;
    const endpointEntries = [...endpoints]
      .map(([endpoint, c]) => ({ endpoint, ...c }))
      .sort(byRequests);

    let data: UsageEntryDto[];
    if (groupBy === 'endpoint') data = endpointEntries;
    else if (groupBy === 'user') {
      data = [...users].map(([user_id, requests]) => ({ user_id, requests })).sort(byRequests);
    } else {
      const perDay = await Promise.all(days.map((day) => this.rollups.uniqueUsers(tenant, [day])));
      data = usage.map((day, i) => {
        let requests = 0;
        let errors = 0;
        for (const counts of day.endpoints.values()) {
          requests += counts.requests;
          errors += counts.errors;
        }
        return { date: day.day, requests, errors, unique_users: perDay[i] };
      });
    }
    return {
      usage_data: data,
      summary: {
        total_requests: total,
        unique_users: uniqueUsers,
        top_endpoints: endpointEntries
          .slice(0, 5)
          .map(({ endpoint, requests }) => ({ endpoint, requests })),
      },
      group_by: groupBy,
      start_date: days[0],
      end_date: days[days.length - 1],
    };
  }

  private async readSnapshot(windowSeconds: number, now: number): Promise<PerformanceSnapshot> {
    const minutes = Math.max(1, Math.ceil(windowSeconds / 60));
    const last = Math.floor(now / 60_000);
    const sum = emptyLatencyRollup();
    for (const rollup of await this.rollups.latency('minute', last - minutes + 1, minutes)) {
      mergeLatency(sum, rollup);
    }
    return {
      window_seconds: windowSeconds,
      requests_per_second: round(sum.requests / windowSeconds),
      avg_response_time_ms: sum.requests === 0 ? 0 : round(sum.totalMicros / 1000 / sum.requests),
      p95_response_time_ms: round(latencyPercentile(sum, 0.95) ?? 0),
      error_rate: sum.requests === 0 ? 0 : round(sum.serverErrors / sum.requests, 5),
    };
  }
}

function point(
  rollup: LatencyRollup,
  startMs: number,
  seconds: number,
  type: MetricType | undefined,
): MetricsPointDto {
  const n = rollup.requests;
  const entry: MetricsPointDto = { timestamp: new Date(startMs).toISOString(), requests: n };
  const percentile = (q: number) => {
    const value = latencyPercentile(rollup, q);
    return value === null ? null : round(value);
  };
  if (type === undefined || type === 'throughput') {
    entry.requests_per_second = round(n / seconds);
  }
  if (type === undefined || type === 'latency') {
    entry.avg_response_time_ms = n === 0 ? null : round(rollup.totalMicros / 1000 / n);
    entry.p50_ms = percentile(0.5);
    entry.p95_ms = percentile(0.95);
    entry.p99_ms = percentile(0.99);
  }
  if (type === undefined || type === 'errors') {
    entry.errors = rollup.serverErrors;
    entry.client_errors = rollup.clientErrors;
    entry.error_rate = n === 0 ? 0 : round(rollup.serverErrors / n, 5);
    entry.client_error_rate = n === 0 ? 0 : round(rollup.clientErrors / n, 5);
  }
  return entry;
}
