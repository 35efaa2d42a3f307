import { Inject, Injectable } from '@nestjs/common';
import { Cluster, type ChainableCommander } from 'ioredis';
import type { RedisClient } from '../connection/redis-client.factory';
import { RedisKeyBuilder } from '../keys/redis-key-builder';
import { REDIS_CLIENT } from '../redis.constants';
import { storeCall } from '../store-errors';
import {
  emptyLatencyRollup,
  LATENCY_BUCKETS_MS,
  RequestRollupRepository,
  type DayUsage,
  type LatencyRollup,
  type RollupBatch,
} from './request-rollup.repository';

/** Minute rollups answer the 1-hour view; hour rollups the 24-hour and 7-day views. */
const MINUTE_TTL_SECONDS = 3 * 3600;
const HOUR_TTL_SECONDS = 8 * 86400;
/** Usage analytics reach back this far. */
export const USAGE_RETENTION_DAYS = 90;
const USAGE_TTL_SECONDS = (USAGE_RETENTION_DAYS + 1) * 86400;

type Queue = (pipeline: ChainableCommander) => void;

/**
 * Rollups as HASHes of integer counters, added to with HINCRBY, so replicas never overwrite each
 * other and a reader simply reads the sum. Each flush is a few pipelined round trips, whatever the
 * traffic was.
 */
@Injectable()
export class RedisRequestRollupRepository extends RequestRollupRepository {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    private readonly keys: RedisKeyBuilder,
  ) {
    super();
  }

  async flush(batch: RollupBatch): Promise<void> {
    const groups: Queue[] = [];
    const hours = new Map<number, LatencyRollup>();
    for (const [minute, rollup] of batch.minutes) {
      groups.push(
        incrementLatency(this.keys.requestRollup('m', minute), rollup, MINUTE_TTL_SECONDS),
      );
      const hour = Math.floor(minute / 60);
      const sum = hours.get(hour) ?? emptyLatencyRollup();
      addLatency(sum, rollup);
      hours.set(hour, sum);
    }
    for (const [hour, rollup] of hours) {
      groups.push(incrementLatency(this.keys.requestRollup('h', hour), rollup, HOUR_TTL_SECONDS));
    }
    for (const [tenant, days] of batch.usage) {
      // One tenant's keys share its hash slot: one pipeline per tenant on Cluster.
      const queues: Queue[] = [];
      for (const usage of days.values()) queues.push(this.incrementUsage(tenant, usage));
      groups.push((pipeline) => queues.forEach((queue) => queue(pipeline)));
    }
    await this.execute(groups);
  }

  async latency(
    granularity: 'minute' | 'hour',
    first: number,
    count: number,
  ): Promise<LatencyRollup[]> {
    const tag = granularity === 'minute' ? 'm' : 'h';
    const hashes = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        storeCall(() => this.redis.hgetall(this.keys.requestRollup(tag, first + i))),
      ),
    );
    return hashes.map(parseLatency);
  }

  async usage(tenant: string, days: string[]): Promise<DayUsage[]> {
    const hashes = await Promise.all(
      days.map((day) => storeCall(() => this.redis.hgetall(this.keys.usage(tenant, day).counters))),
    );
    return hashes.map((hash, i) => parseUsage(days[i], hash));
  }

  async uniqueUsers(tenant: string, days: string[]): Promise<number> {
    if (days.length === 0) return 0;
    // Several keys: PFCOUNT merges on the fly and, unlike the one-key form, caches nothing back.
    const keys = days.map((day) => this.keys.usage(tenant, day).users);
    return storeCall(() => this.redis.pfcount(keys[0], ...keys.slice(1), keys[0]));
  }

  private incrementUsage(tenant: string, usage: DayUsage): Queue {
    const { counters, users } = this.keys.usage(tenant, usage.day);
    return (pipeline) => {
      for (const [endpoint, counts] of usage.endpoints) {
        pipeline.hincrby(counters, `e:${endpoint}`, counts.requests);
        if (counts.errors > 0) pipeline.hincrby(counters, `x:${endpoint}`, counts.errors);
      }
      for (const [user, requests] of usage.users) pipeline.hincrby(counters, `u:${user}`, requests);
      pipeline.expire(counters, USAGE_TTL_SECONDS);
      if (usage.users.size > 0) {
        pipeline.pfadd(users, ...usage.users.keys());
        pipeline.expire(users, USAGE_TTL_SECONDS);
      }
    };
  }

  /** Cluster pipelines must stay in one slot: one per group there, one for all elsewhere. */
  private async execute(groups: Queue[]): Promise<void> {
    if (groups.length === 0) return;
    const pipelines: ChainableCommander[] = [];
    if (this.redis instanceof Cluster) {
      for (const group of groups) {
        const pipeline = this.redis.pipeline();
        group(pipeline);
        pipelines.push(pipeline);
      }
    } else {
      const pipeline = this.redis.pipeline();
      for (const group of groups) group(pipeline);
      pipelines.push(pipeline);
    }
    const results = await Promise.all(pipelines.map((p) => storeCall(() => p.exec())));
    for (const result of results) {
      const failed = result?.find(([error]) => error !== null);
      if (failed) throw failed[0] as Error;
    }
  }
}

function incrementLatency(key: string, rollup: LatencyRollup, ttlSeconds: number): Queue {
  return (pipeline) => {
    pipeline.hincrby(key, 'n', rollup.requests);
    if (rollup.clientErrors > 0) pipeline.hincrby(key, 'e4', rollup.clientErrors);
    if (rollup.serverErrors > 0) pipeline.hincrby(key, 'e5', rollup.serverErrors);
    pipeline.hincrby(key, 'us', rollup.totalMicros);
    rollup.buckets.forEach((count, i) => {
      if (count > 0) pipeline.hincrby(key, `b${i}`, count);
    });
    pipeline.expire(key, ttlSeconds);
  };
}

export function addLatency(target: LatencyRollup, source: LatencyRollup): void {
  target.requests += source.requests;
  target.clientErrors += source.clientErrors;
  target.serverErrors += source.serverErrors;
  target.totalMicros += source.totalMicros;
  source.buckets.forEach((count, i) => (target.buckets[i] += count));
}

function parseLatency(hash: Record<string, string>): LatencyRollup {
  const rollup = emptyLatencyRollup();
  rollup.requests = Number(hash.n ?? 0);
  rollup.clientErrors = Number(hash.e4 ?? 0);
  rollup.serverErrors = Number(hash.e5 ?? 0);
  rollup.totalMicros = Number(hash.us ?? 0);
  for (let i = 0; i <= LATENCY_BUCKETS_MS.length; i++)
    rollup.buckets[i] = Number(hash[`b${i}`] ?? 0);
  return rollup;
}

function parseUsage(day: string, hash: Record<string, string>): DayUsage {
  const usage: DayUsage = { day, endpoints: new Map(), users: new Map() };
  for (const [field, value] of Object.entries(hash)) {
    const name = field.slice(2);
    if (field.startsWith('e:') || field.startsWith('x:')) {
      const counts = usage.endpoints.get(name) ?? { requests: 0, errors: 0 };
      if (field[0] === 'e') counts.requests += Number(value);
      else counts.errors += Number(value);
      usage.endpoints.set(name, counts);
    } else if (field.startsWith('u:')) {
      usage.users.set(name, Number(value));
    }
  }
  return usage;
}
