import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  emptyLatencyRollup,
  LATENCY_BUCKETS_MS,
  RequestRollupRepository,
  type DayUsage,
  type LatencyRollup,
  type RollupBatch,
} from '@app/redis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { apiMetrics } from './prometheus.metrics';

/** Usage analytics are per UTC day: `YYYY-MM-DD`. */
export function utcDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

function bucketOf(ms: number): number {
  for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) if (ms <= LATENCY_BUCKETS_MS[i]) return i;
  return LATENCY_BUCKETS_MS.length;
}

function emptyBatch(): RollupBatch {
  return { minutes: new Map(), usage: new Map() };
}

/**
 * This replica's share of the deployment-wide request figures: counts, a fixed-bucket latency
 * histogram per minute and per-tenant usage, kept in process and added to Redis every few seconds
 * (and on shutdown) by one pipelined flush. Nothing is written to Redis per request; readers sum the
 * replicas' contributions (see RollupReader).
 */
@Injectable()
export class RequestRollups implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RequestRollups.name);
  private batch = emptyBatch();
  private minute = -1;
  private current = emptyLatencyRollup();
  private day = '';
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    private readonly repository: RequestRollupRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Hot path: a few increments; the usage part only for authenticated requests. */
  record(
    endpoint: string,
    status: number,
    ms: number,
    tenant: string | undefined,
    sub: string | undefined,
  ): void {
    const now = Date.now();
    const minute = Math.floor(now / 60000);
    if (minute !== this.minute) this.startMinute(minute, now);
    const rollup = this.current;
    rollup.requests++;
    if (status >= 500) rollup.serverErrors++;
    else if (status >= 400) rollup.clientErrors++;
    rollup.totalMicros += Math.round(ms * 1000);
    rollup.buckets[bucketOf(ms)]++;
    if (tenant === undefined) return;
    const usage = this.usageOf(tenant);
    const counts = usage.endpoints.get(endpoint);
    if (counts === undefined)
      usage.endpoints.set(endpoint, { requests: 1, errors: status >= 500 ? 1 : 0 });
    else {
      counts.requests++;
      if (status >= 500) counts.errors++;
    }
    if (sub !== undefined) usage.users.set(sub, (usage.users.get(sub) ?? 0) + 1);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), this.config.observability.flushIntervalMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Adds what this replica counted since the last flush to Redis; on failure keeps it for the next. */
  async flush(): Promise<void> {
    if (this.flushing) await this.flushing;
    const batch = this.batch;
    if (batch.minutes.size === 0 && batch.usage.size === 0) return;
    this.batch = emptyBatch();
    this.minute = -1;
    this.flushing = this.repository.flush(batch).catch((error: unknown) => {
      apiMetrics().rollupFlushFailures.inc();
      this.logger.warn(`request rollup flush failed, retrying with the next one: ${String(error)}`);
      this.restore(batch);
    });
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  private startMinute(minute: number, now: number): void {
    this.minute = minute;
    let rollup = this.batch.minutes.get(minute);
    if (rollup === undefined) {
      rollup = emptyLatencyRollup();
      this.batch.minutes.set(minute, rollup);
    }
    this.current = rollup;
    this.day = utcDay(now);
  }

  private usageOf(tenant: string): DayUsage {
    let days = this.batch.usage.get(tenant);
    if (days === undefined) {
      days = new Map();
      this.batch.usage.set(tenant, days);
    }
    let usage = days.get(this.day);
    if (usage === undefined) {
      usage = { day: this.day, endpoints: new Map(), users: new Map() };
      days.set(this.day, usage);
    }
    return usage;
  }

  /** Puts a failed batch back (bounded to the last 3 hours: the minute keys' retention). */
  private restore(failed: RollupBatch): void {
    const oldest = Math.floor(Date.now() / 60000) - 180;
    for (const [minute, rollup] of failed.minutes) {
      if (minute < oldest) continue;
      const target = this.batch.minutes.get(minute) ?? emptyLatencyRollup();
      mergeLatency(target, rollup);
      this.batch.minutes.set(minute, target);
    }
    this.minute = -1;
    for (const [tenant, days] of failed.usage) {
      for (const usage of days.values()) {
        let targetDays = this.batch.usage.get(tenant);
        if (!targetDays) {
          targetDays = new Map<string, DayUsage>();
          this.batch.usage.set(tenant, targetDays);
        }
        const target: DayUsage = targetDays.get(usage.day) ?? {
          day: usage.day,
          endpoints: new Map(),
          users: new Map(),
        };
        for (const [endpoint, counts] of usage.endpoints) {
          const sum = target.endpoints.get(endpoint) ?? { requests: 0, errors: 0 };
          sum.requests += counts.requests;
          sum.errors += counts.errors;
          target.endpoints.set(endpoint, sum);
        }
        for (const [user, n] of usage.users)
          target.users.set(user, (target.users.get(user) ?? 0) + n);
        targetDays.set(usage.day, target);
      }
    }
  }
}

export function mergeLatency(target: LatencyRollup, source: LatencyRollup): void {
  target.requests += source.requests;
  target.clientErrors += source.clientErrors;
  target.serverErrors += source.serverErrors;
  target.totalMicros += source.totalMicros;
  source.buckets.forEach((count, i) => (target.buckets[i] += count));
}
