import type { ChainableCommander } from 'ioredis';

/**
 * Errors the data layer raises. They carry no HTTP meaning; the API maps them (global filter).
 */

/**
 * Why the store could not serve a call. Each class has a deliberate answer in the API (status,
 * Retry-After, log line); none of them is a bug of ours, so none may become a bare 500.
 */
export type StoreFailure =
  /** Redis cannot be reached; nothing was sent. */
  | 'unreachable'
  /** A write was sent but its reply was lost: it may or may not have been applied. */
  | 'outcome_unknown'
  /** `maxmemory` reached under `noeviction`: Redis refused the write before running it. */
  | 'out_of_memory'
  /** A replica or a demoted master (failover in progress). */
  | 'read_only'
  /** Redis is loading its data set after a restart. */
  | 'loading'
  /** A long script holds Redis. */
  | 'busy'
  /** MISCONF: Redis refuses writes because it cannot persist. */
  | 'persistence_failing'
  /** Cluster slots are moving or a shard is down (CLUSTERDOWN, TRYAGAIN, MASTERDOWN, ...). */
  | 'cluster_reconfiguring'
  /** `min-replicas-to-write` or WAIT could not be satisfied. */
  | 'replicas_missing';

export class StoreUnavailableError extends Error {
  constructor(
    readonly reason: string,
    readonly failure: StoreFailure = 'unreachable',
  ) {
    super(`data store unavailable: ${reason}`);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * Raised by a write whose reply never came (timeout, connection dropped with the command in
 * flight). The client library is told never to re-send such a command (see the client factory),
 * so the caller must decide: retry with its Idempotency-Key.
 */
export class WriteOutcomeUnknownError extends Error {
  constructor(
    readonly operation: string,
    override readonly cause: Error,
  ) {
    super(`outcome of ${operation} unknown: ${cause.message}`);
    this.name = 'WriteOutcomeUnknownError';
  }
}

// Server replies that mean "not now" rather than "your command is wrong", by their leading code.
const REPLY_FAILURES: [RegExp, StoreFailure][] = [
  [/^OOM\b/, 'out_of_memory'],
  [/^READONLY\b/, 'read_only'],
  [/^LOADING\b/, 'loading'],
  [/^BUSY\b/, 'busy'],
  [/^MISCONF\b/, 'persistence_failing'],
  [/^(CLUSTERDOWN|TRYAGAIN|MASTERDOWN|MOVED|ASK)\b/, 'cluster_reconfiguring'],
  // A script touched a key of a slot that is moving away (Cluster resharding).
  [/Script attempted to access a non local key/, 'cluster_reconfiguring'],
  [/^NOREPLICAS\b/, 'replicas_missing'],
];

// What ioredis and the socket layer raise when Redis cannot be reached or does not answer.
const CONNECTION_FAILURE =
  /Connection is closed|Stream isn't writeable|Command timed out|Reached the max retries|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|EAI_AGAIN|Failed to refresh slots cache|None of startup nodes is available|Too many Cluster redirections|All sentinels are unreachable/;
const CONNECTION_ERROR_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);

const CLUSTER_GAVE_UP =
  /^Too many Cluster redirections\. Last error: .*(TRYAGAIN|CLUSTERDOWN|ASK|MOVED|non local key)/;

// ioredis refused a client-side batch before sending it: its keys' owners changed under it.
const CLUSTER_BATCH_SPLIT = /^All keys in the pipeline should belong to the same slots/;

// The subset of connection failures that can strike after a command was written to the socket.
const REPLY_LOST =
  /Connection is closed|Command timed out|Reached the max retries|ECONNRESET|EPIPE/;

/** The failure class of an error, or undefined when it is not the store's fault (a bug). */
export function classifyStoreFailure(error: unknown): StoreFailure | undefined {
  if (!(error instanceof Error)) return undefined;
  // ioredis gave up following a slot that kept moving (its last reply was TRYAGAIN, ASK, ...).
  if (CLUSTER_GAVE_UP.test(error.message) || CLUSTER_BATCH_SPLIT.test(error.message)) {
    return 'cluster_reconfiguring';
  }
  if (error instanceof StoreUnavailableError) return error.failure;
  if (error instanceof WriteOutcomeUnknownError) return 'outcome_unknown';
  if (error.name === 'ReplyError') {
    return REPLY_FAILURES.find(([pattern]) => pattern.test(error.message))?.[1];
  }
  const code = (error as { code?: unknown }).code;
  const connection =
    CONNECTION_ERROR_NAMES.has(error.name) ||
    CONNECTION_FAILURE.test(error.message) ||
    (typeof code === 'string' && CONNECTION_FAILURE.test(code));
  return connection ? 'unreachable' : undefined;
}

/**
 * True when the failure is about reaching Redis or a deliberate refusal by a healthy one
 * (see {@link StoreFailure}). False for anything else, including ordinary reply errors and
 * programming errors, which must stay 500s rather than hide behind a 503.
 */
export function isUnavailability(error: unknown): boolean {
  return classifyStoreFailure(error) !== undefined;
}

/** True when a write's reply may have been lost after the command left for Redis. */
export function isReplyLost(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    REPLY_LOST.test(error.message) ||
    (typeof code === 'string' && REPLY_LOST.test(code))
  );
}

/** Runs one data-store call, turning "Redis cannot serve this" into {@link StoreUnavailableError}. */
export async function storeCall<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    const failure = classifyStoreFailure(error);
    if (failure !== undefined) {
      throw new StoreUnavailableError(
        error instanceof Error ? error.message : String(error),
        failure,
      );
    }
    throw error;
  }
}

/**
 * Runs a pipeline and returns its replies' values. A per-command error (e.g. LOADING on one node)
 * fails the whole call and is judged like any other store failure.
 */
export async function storePipeline(pipeline: ChainableCommander): Promise<unknown[]> {
  return storeCall(async () => {
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
    return results.map(([, value]) => value);
  });
}
