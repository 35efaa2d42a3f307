/**
 * Upper bounds (milliseconds) of the latency histogram the replicas roll requests into; one more
 * bucket holds everything slower. Fixed, so replicas' buckets add up field by field in Redis.
 */
export const LATENCY_BUCKETS_MS = [
  1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
] as const;

/** Requests of one period (minute or hour), all routes together. */
export interface LatencyRollup {
  requests: number;
  clientErrors: number;
  serverErrors: number;
  /** Sum of durations in microseconds (integers add exactly in Redis). */
  totalMicros: number;
  /** Counts per bucket of {@link LATENCY_BUCKETS_MS}, plus the overflow bucket last. */
  buckets: number[];
}

export interface EndpointUsage {
  requests: number;
  errors: number;
}

/** One tenant's usage of one UTC day. */
export interface DayUsage {
  day: string;
  endpoints: Map<string, EndpointUsage>;
  /** Requests per subject (the token's `sub`). */
  users: Map<string, number>;
}

export interface RollupBatch {
  /** Keyed by epoch minute. */
  minutes: Map<number, LatencyRollup>;
  /** Keyed by tenant, then day. */
  usage: Map<string, Map<string, DayUsage>>;
}

export function emptyLatencyRollup(): LatencyRollup {
  return {
    requests: 0,
    clientErrors: 0,
    serverErrors: 0,
    totalMicros: 0,
    buckets: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0),
  };
}

/**
 * Storage of the replicas' request rollups. Replicas add their in-process counts with `flush`;
 * readers see the sum over every replica. Reads never write.
 */
export abstract class RequestRollupRepository {
  abstract flush(batch: RollupBatch): Promise<void>;
  /** `count` consecutive periods starting at `first` (epoch minutes or hours), in order. */
  abstract latency(
    granularity: 'minute' | 'hour',
    first: number,
    count: number,
  ): Promise<LatencyRollup[]>;
  abstract usage(tenant: string, days: string[]): Promise<DayUsage[]>;
  /** Distinct users over the days (HyperLogLog union, about 0.8% standard error). */
  abstract uniqueUsers(tenant: string, days: string[]): Promise<number>;
}
