import type { BreakerState } from '../connection/circuit-breaker';

/** The connections that carry a breaker of their own (a bounded label value). */
export type BreakerClient = 'main' | 'session_l1';

/**
 * What the repositories report about themselves, implemented by the application's metrics module
 * (RedisModule options). Calls are synchronous and must be cheap: they run on every operation.
 */
export interface StoreObserver {
  /** One repository call: `entity` (session, memory, cache, idempotency), method name, duration. */
  operation(entity: string, operation: string, seconds: number, error: string | undefined): void;
  /** Items in one batch call (create/getMany/delete of several records). */
  batch(entity: string, operation: string, size: number): void;
  /** Outcome of a read that can miss: cache lookups report one per key. */
  lookup(entity: string, operation: string, hits: number, misses: number): void;
  /** Records a successful create call stored (sessions_created_total). */
  created(entity: string, count: number): void;
  /**
   * A session's status changed from `from` to `to`, or it was deleted (`to` null): its created_at
   * and the time of the change, both from Redis' clock (ms). Reported once per committed write.
   */
  sessionTransition?(from: string, to: string | null, createdAt: number, at: number): void;
  /**
   * Records a purgeExpired call (the background sweepers) removed because their TTL had passed;
   * clean-ups inside other scripts (lists, invalidations) are not reported.
   */
  expired?(entity: string, count: number): void;
  /**
   * A circuit breaker in front of a Redis connection changed state (see connection/breaker-gate.ts):
   * `client` is `main` for the client every repository uses, else the connection's own name.
   */
  breakerTransition?(
    from: BreakerState,
    to: BreakerState,
    client: BreakerClient,
    /** On a Cluster, the node (`host:port`) whose breaker it is: there is one per node. */
    node?: string,
  ): void;
  /** A Cluster dropped this node from its slot map: its breaker is gone with its connection. */
  breakerGone?(client: BreakerClient, node: string): void;
}

/** Turns one repository method's successful result into observer calls (entity-specific facts). */
export type ResultReporter = (method: string, result: unknown, observer: StoreObserver) => void;

/** Error class name as a bounded label value (never the message, which may carry ids). */
function errorType(error: unknown): string {
  return error instanceof Error ? error.name : 'unknown';
}

function countFound(value: unknown): [number, number] {
  if (Array.isArray(value)) {
    let hits = 0;
    for (const item of value) if (item !== null && item !== undefined) hits++;
    return [hits, value.length - hits];
  }
  return value === null || value === undefined ? [0, 1] : [1, 0];
}

/** What a purgeExpired call removed (its PurgeResult), never its cap. */
function purgedCount(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const removed = (value as { removed?: unknown }).removed;
  return typeof removed === 'number' ? removed : 0;
}

/**
 * Wraps every method of a repository instance with timing, error and batch-size reporting. The
 * wrappers are made once, at start-up, as own properties of the instance; each call then costs two
 * clock reads and the observer's increments. Async generators (tenant listings) stay unwrapped.
 */
export function instrumentRepository<T extends object>(
  repository: T,
  entity: string,
  observer: StoreObserver | undefined,
  report?: ResultReporter,
): T {
  if (!observer) return repository;
  const lookups = new Set(entity === 'cache' ? ['get', 'getMany'] : []);
  let prototype = Object.getPrototypeOf(repository) as object | null;
  const seen = new Set<string>();
  while (prototype && prototype !== Object.prototype) {
    for (const name of Object.getOwnPropertyNames(prototype)) {
      if (name === 'constructor' || seen.has(name)) continue;
      seen.add(name);
      const descriptor = Object.getOwnPropertyDescriptor(prototype, name);
      const original: unknown = descriptor?.value;
      if (typeof original !== 'function') continue;
      if (original.constructor.name === 'AsyncGeneratorFunction') continue;
      const method = original as (...args: unknown[]) => unknown;
      const counted = lookups.has(name);
      const wrapped = function (this: T, ...args: unknown[]): unknown {
        const started = performance.now();
        const batch = args[1];
        if (Array.isArray(batch)) observer.batch(entity, name, batch.length);
        let result: unknown;
        try {
          result = method.apply(this, args);
        } catch (error) {
          observer.operation(entity, name, (performance.now() - started) / 1000, errorType(error));
          throw error;
        }
        if (!(result instanceof Promise)) return result;
        return result.then(
          (value: unknown) => {
            observer.operation(entity, name, (performance.now() - started) / 1000, undefined);
            if (counted) {
              const [hits, misses] = countFound(value);
              observer.lookup(entity, name, hits, misses);
            }
            if (name === 'create')
              observer.created(entity, Array.isArray(batch) ? batch.length : 1);
            if (name === 'purgeExpired') {
              const removed = purgedCount(value);
              if (removed > 0) observer.expired?.(entity, removed);
            }
            report?.(name, value, observer);
            return value;
          },
          (error: unknown) => {
            observer.operation(
              entity,
              name,
              (performance.now() - started) / 1000,
              errorType(error),
            );
            throw error;
          },
        );
      };
      Object.defineProperty(repository, name, {
        value: wrapped,
        configurable: true,
        writable: true,
      });
    }
    prototype = Object.getPrototypeOf(prototype) as object | null;
  }
  return repository;
}
