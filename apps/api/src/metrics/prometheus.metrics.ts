import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  register,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
  type Metric,
} from 'prom-client';

/** One prefix for every metric of the app (cross-branch contract). */
export const METRIC_PREFIX = 'masa_';

/**
 * prom-client's default registry is process-wide, and a process may hold several applications
 * (tests run two replicas side by side): a metric is created once and found again afterwards,
 * like @willsoto/nestjs-prometheus' getOrCreateMetric.
 */
function getOrCreate<T extends Metric>(name: string, create: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? create();
}

const counter = <L extends string>(config: CounterConfiguration<L>) =>
  getOrCreate(config.name, () => new Counter<L>(config));
const gauge = <L extends string>(config: GaugeConfiguration<L>) =>
  getOrCreate(config.name, () => new Gauge<L>(config));
const histogram = <L extends string>(config: HistogramConfiguration<L>) =>
  getOrCreate(config.name, () => new Histogram<L>(config));

/** Seconds; covers a cached 1 ms read up to a 10 s timeout. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const REDIS_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1,
];
const SIZE_BUCKETS = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304];
const BATCH_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000];
/** Seconds; a session lasts from seconds (a tool call) to its maximum TTL (days). */
const SESSION_BUCKETS = [
  1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 259200, 604800,
];

export type HttpLabel = 'method' | 'route' | 'status_class' | 'tenant';

/** Every metric the API exports, created on first use. */
export function apiMetrics() {
  const tenantLabel: HttpLabel[] = ['method', 'route', 'status_class', 'tenant'];
  return {
    httpDuration: histogram<HttpLabel>({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'Time from receiving a request to sending its response.',
      labelNames: tenantLabel,
      buckets: DURATION_BUCKETS,
    }),
    httpRequests: counter<HttpLabel>({
      name: `${METRIC_PREFIX}http_requests_total`,
      help: 'Responses sent, by route template, method and status class.',
      labelNames: tenantLabel,
    }),
    httpInFlight: gauge({
      name: `${METRIC_PREFIX}http_requests_in_flight`,
      help: 'Requests received and not yet answered.',
    }),
    httpRequestSize: histogram<HttpLabel>({
      name: `${METRIC_PREFIX}http_request_size_bytes`,
      help: 'Request body sizes (Content-Length).',
      labelNames: ['method', 'route'],
      buckets: SIZE_BUCKETS,
    }),
    httpResponseSize: histogram<HttpLabel>({
      name: `${METRIC_PREFIX}http_response_size_bytes`,
      help: 'Response body sizes (Content-Length).',
      labelNames: ['method', 'route'],
      buckets: SIZE_BUCKETS,
    }),
    crudOperations: counter<'operation' | 'entity'>({
      name: `${METRIC_PREFIX}crud_operations_total`,
      help: 'Repository calls by operation and entity.',
      labelNames: ['operation', 'entity'],
    }),
    crudDuration: histogram<'operation' | 'entity'>({
      name: `${METRIC_PREFIX}crud_operation_duration_seconds`,
      help: 'Repository call durations, Redis round trips included.',
      labelNames: ['operation', 'entity'],
      buckets: DURATION_BUCKETS,
    }),
    crudErrors: counter<'operation' | 'entity' | 'error_type'>({
      name: `${METRIC_PREFIX}crud_operation_errors_total`,
      help: 'Repository calls that failed, by error class.',
      labelNames: ['operation', 'entity', 'error_type'],
    }),
    crudBatchSize: histogram<'operation' | 'entity'>({
      name: `${METRIC_PREFIX}crud_batch_size`,
      help: 'Items per batch repository call.',
      labelNames: ['operation', 'entity'],
      buckets: BATCH_BUCKETS,
    }),
    redisCommands: counter<'command'>({
      name: `${METRIC_PREFIX}redis_commands_total`,
      help: 'Redis commands sent, by command.',
      labelNames: ['command'],
    }),
    redisCommandErrors: counter<'command'>({
      name: `${METRIC_PREFIX}redis_command_errors_total`,
      help: 'Redis commands that failed (error reply, timeout, connection loss).',
      labelNames: ['command'],
    }),
    redisCommandDuration: histogram<'command'>({
      name: `${METRIC_PREFIX}redis_command_duration_seconds`,
      help: 'Redis command round-trip times.',
      labelNames: ['command'],
      buckets: REDIS_BUCKETS,
    }),
    redisUp: gauge({
      name: `${METRIC_PREFIX}redis_up`,
      help: '1 when the Redis connection is ready, else 0.',
    }),
    // The main client's series carry no `client` label (as before other connections had
    // breakers), so existing alerts, dashboards and scrapes read it unchanged.
    redisBreakerState: gauge<'client' | 'node'>({
      name: `${METRIC_PREFIX}redis_breaker_state`,
      help: 'Circuit breaker in front of Redis: 0 closed (commands flow), 1 half-open (one trial command), 2 open (commands fail at once with 503). No client label: the main client; client="session_l1": the session L1 reader. On Redis Cluster one breaker per node, labelled node="host:port".',
      labelNames: ['client', 'node'],
    }),
    redisBreakerTransitions: counter<'from' | 'to' | 'client' | 'node'>({
      name: `${METRIC_PREFIX}redis_breaker_transitions_total`,
      help: 'State changes of a circuit breaker in front of Redis (client and node labels as for masa_redis_breaker_state).',
      labelNames: ['from', 'to', 'client', 'node'],
    }),
    redisConnections: gauge<'client' | 'state'>({
      name: `${METRIC_PREFIX}redis_connections`,
      help: 'Connections of each Redis client by state (ready, connecting, closed); ioredis multiplexes one connection per server, a Cluster client one per node.',
      labelNames: ['client', 'state'],
    }),
    redisMemoryUsed: gauge<'node'>({
      name: `${METRIC_PREFIX}redis_memory_used_bytes`,
      help: 'used_memory reported by INFO of each primary (every Cluster master).',
      labelNames: ['node'],
    }),
    redisMemoryMax: gauge<'node'>({
      name: `${METRIC_PREFIX}redis_memory_max_bytes`,
      help: 'maxmemory reported by INFO of each primary (0 = no limit).',
      labelNames: ['node'],
    }),
    redisEvictedKeys: gauge<'node'>({
      name: `${METRIC_PREFIX}redis_evicted_keys`,
      help: 'evicted_keys reported by INFO of each primary since its start (should stay 0: noeviction).',
      labelNames: ['node'],
    }),
    cacheOperations: counter<'operation' | 'result'>({
      name: `${METRIC_PREFIX}cache_operations_total`,
      help: 'Cache operations by result (hit, miss, ok, error).',
      labelNames: ['operation', 'result'],
    }),
    cacheHitRatio: gauge({
      name: `${METRIC_PREFIX}cache_hit_ratio`,
      help: 'Hits / (hits + misses) of cache reads served by this replica since it started.',
    }),
    cacheEntries: gauge({
      name: `${METRIC_PREFIX}cache_entries`,
      help: 'Cache entries in the key indexes of the counted tenants.',
    }),
    cacheStoredBytes: gauge({
      name: `${METRIC_PREFIX}cache_stored_bytes`,
      help: 'Estimate of the bytes Redis holds for cache entries (MEMORY USAGE of a random sample of entries of the largest tenants, times the entry counts; indexes excluded).',
    }),
    cacheEvictions: counter({
      name: `${METRIC_PREFIX}cache_evictions_total`,
      help: 'Cache entries removed by the API because their TTL had passed (Redis itself must not evict: see redis_evicted_keys).',
    }),
    sessionsCreated: counter({
      name: `${METRIC_PREFIX}sessions_created_total`,
      help: 'Sessions created through this replica.',
    }),
    sessionsActive: gauge({
      name: `${METRIC_PREFIX}sessions_active`,
      help: 'Live sessions not in an ended status (completed, failed, cancelled).',
    }),
    sessionsStored: gauge({
      name: `${METRIC_PREFIX}sessions_stored`,
      help: 'Live sessions of every status in the session indexes.',
    }),
    sessionDuration: histogram<'outcome'>({
      name: `${METRIC_PREFIX}session_duration_seconds`,
      help: 'Session lifetimes: from created_at to the write that moved a session into an ended status (outcome completed, failed or cancelled) or deleted it before it ended (outcome deleted). Sessions that expire are not observed.',
      labelNames: ['outcome'],
      buckets: SESSION_BUCKETS,
    }),
    sessionsByStatus: gauge<'status'>({
      name: `${METRIC_PREFIX}sessions_by_status`,
      help: 'Sessions per well-known status, from the status indexes.',
      labelNames: ['status'],
    }),
    memoryRecords: gauge({
      name: `${METRIC_PREFIX}agent_memory_records`,
      help: 'Agent memory records in the memory indexes.',
    }),
    memoryStoredBytes: gauge({
      name: `${METRIC_PREFIX}agent_memory_stored_bytes`,
      help: 'Estimate of the bytes Redis holds for agent memory records (MEMORY USAGE of a random sample of records of the largest tenants, times the record counts; indexes excluded).',
    }),
    memoryRetrievals: counter<'operation'>({
      name: `${METRIC_PREFIX}agent_memory_retrievals_total`,
      help: 'Agent memory reads (single records, agent lists, cross-agent queries).',
      labelNames: ['operation'],
    }),
    storeTenantsCounted: gauge({
      name: `${METRIC_PREFIX}store_tenants_counted`,
      help: 'Tenants whose indexes the store gauges summed (capped).',
    }),
    storeTenantsSampled: gauge({
      name: `${METRIC_PREFIX}store_tenants_sampled`,
      help: 'Tenants whose records were sampled for the stored-bytes estimates (capped).',
    }),
    rollupFlushFailures: counter({
      name: `${METRIC_PREFIX}metrics_rollup_flush_failures_total`,
      help: 'Failed flushes of the request rollups to Redis (retried with the next flush).',
    }),
  };
}

export type ApiMetrics = ReturnType<typeof apiMetrics>;

/** Node process metrics (CPU, memory, event loop lag, GC), once per process. */
export function collectProcessMetrics(): void {
  if (register.getSingleMetric(`${METRIC_PREFIX}process_cpu_seconds_total`)) return;
  collectDefaultMetrics({ prefix: METRIC_PREFIX });
  // prom-client also exports these gauges under a `_total` name, which promtool rejects (only
  // counters end in _total); the same figures stay under nodejs_active_{handles,requests,resources}.
  for (const name of ['active_handles', 'active_requests', 'active_resources']) {
    register.removeSingleMetric(`${METRIC_PREFIX}nodejs_${name}_total`);
  }
}
