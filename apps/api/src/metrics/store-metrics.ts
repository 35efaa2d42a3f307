import type { Counter, Histogram } from 'prom-client';
import {
  subscribeRedisCommands,
  type BreakerClient,
  type BreakerState,
  type StoreObserver,
} from '@app/redis';
import { apiMetrics, type ApiMetrics } from './prometheus.metrics';
import { ENDED_STATUSES } from './session-statuses';

/** Label children made once per label combination, so a hot call does no label hashing. */
class Children<T> {
  private readonly made = new Map<string, T>();
  constructor(private readonly make: (...parts: string[]) => T) {}

  get(a: string, b = ''): T {
    const key = b === '' ? a : `${a}\u0000${b}`;
    let child = this.made.get(key);
    if (child === undefined) {
      child = this.make(a, b);
      this.made.set(key, child);
    }
    return child;
  }
}

interface Timed {
  count: Counter.Internal;
  duration: Histogram.Internal<string>;
}

/**
 * Receives the repositories' reports (RedisModule's observer) and turns them into the CRUD, cache,
 * session and memory metrics. Everything is in process: nothing here talks to Redis.
 */
export class StoreMetricsObserver implements StoreObserver {
  private readonly operations: Children<Timed>;
  private readonly batches: Children<Histogram.Internal<string>>;
  private readonly cacheResults: Children<Counter.Internal>;
  private cacheHits = 0;
  private cacheMisses = 0;

  constructor(private readonly metrics: ApiMetrics = apiMetrics()) {
    this.operations = new Children((operation, entity) => ({
      count: metrics.crudOperations.labels(operation, entity),
      duration: metrics.crudDuration.labels(operation, entity),
    }));
    this.batches = new Children((operation, entity) =>
      metrics.crudBatchSize.labels(operation, entity),
    );
    this.cacheResults = new Children((operation, result) =>
      metrics.cacheOperations.labels(operation, result),
    );
  }

  operation(entity: string, operation: string, seconds: number, error: string | undefined): void {
    const timed = this.operations.get(operation, entity);
    timed.count.inc();
    timed.duration.observe(seconds);
    if (error !== undefined) {
      this.metrics.crudErrors.labels(operation, entity, error).inc();
    }
    if (entity === 'cache' && operation !== 'get' && operation !== 'getMany') {
      this.cacheResults.get(operation, error === undefined ? 'ok' : 'error').inc();
    } else if (entity === 'cache' && error !== undefined) {
      this.cacheResults.get(operation, 'error').inc();
    }
    if (entity === 'memory' && error === undefined && RETRIEVALS.has(operation)) {
      this.metrics.memoryRetrievals.labels(operation).inc();
    }
  }

  batch(entity: string, operation: string, size: number): void {
    this.batches.get(operation, entity).observe(size);
  }

  lookup(entity: string, operation: string, hits: number, misses: number): void {
    if (entity !== 'cache') return;
    if (hits > 0) this.cacheResults.get(operation, 'hit').inc(hits);
    if (misses > 0) this.cacheResults.get(operation, 'miss').inc(misses);
    this.cacheHits += hits;
    this.cacheMisses += misses;
    this.metrics.cacheHitRatio.set(this.cacheHits / (this.cacheHits + this.cacheMisses));
  }

  created(entity: string, count: number): void {
    if (entity === 'session') this.metrics.sessionsCreated.inc(count);
  }

  /**
   * A session ends when it enters an ended status from another one, or when it is deleted before
   * that; a session already ended is not observed again when it is deleted.
   */
  sessionTransition(from: string, to: string | null, createdAt: number, at: number): void {
    if (ENDED_STATUSES.has(from) || (to !== null && !ENDED_STATUSES.has(to))) return;
    this.metrics.sessionDuration
      .labels(to ?? 'deleted')
      .observe(Math.max(0, (at - createdAt) / 1000));
  }

  expired(entity: string, count: number): void {
    if (entity === 'cache') this.metrics.cacheEvictions.inc(count);
  }

  breakerTransition(
    from: BreakerState,
    to: BreakerState,
    client: BreakerClient,
    node?: string,
  ): void {
    const labels = breakerLabels(client, node);
    this.metrics.redisBreakerState.set(labels, BREAKER_GAUGE[to]);
    this.metrics.redisBreakerTransitions.labels({ from, to, ...labels }).inc();
  }

  // A node the Cluster dropped keeps no gauge: an open one would page for a node no longer used.
  breakerGone(client: BreakerClient, node: string): void {
    this.metrics.redisBreakerState.remove(breakerLabels(client, node));
  }
}

/** The main client keeps no `client` label, so RedisBreakerOpen (`client=""`) sees its nodes too. */
function breakerLabels(client: BreakerClient, node?: string): { client?: string; node?: string } {
  return { ...(client === 'main' ? {} : { client }), ...(node === undefined ? {} : { node }) };
}

const BREAKER_GAUGE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

const RETRIEVALS = new Set(['get', 'listByAgent', 'query']);

let commandSubscription: (() => void) | undefined;
let commandObservers = 0;

/**
 * Redis command count, errors and duration by command, from ioredis' command tracing channel.
 * The channel is process-wide, so applications in one process (tests) share one subscription;
 * the returned release ends it with the last application.
 */
export function observeRedisCommands(metrics: ApiMetrics = apiMetrics()): () => void {
  commandObservers++;
  if (!commandSubscription) {
    const children = new Children<Timed & { errors: Counter.Internal }>((command) => ({
      count: metrics.redisCommands.labels(command),
      duration: metrics.redisCommandDuration.labels(command),
      errors: metrics.redisCommandErrors.labels(command),
    }));
    commandSubscription = subscribeRedisCommands<number>({
      start: () => performance.now(),
      end: (event, started, error) => {
        const timed = children.get(event.command);
        timed.count.inc();
        timed.duration.observe((performance.now() - started) / 1000);
        if (error !== undefined) timed.errors.inc();
      },
    });
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--commandObservers === 0) {
      commandSubscription?.();
      commandSubscription = undefined;
    }
  };
}
