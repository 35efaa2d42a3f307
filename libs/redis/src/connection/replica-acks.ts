import { AsyncLocalStorage } from 'node:async_hooks';
import { WriteOutcomeUnknownError } from '../store-errors';
import type { RedisClient } from './redis-client.factory';

/** `REDIS_MIN_REPLICAS_ACK`: how many replicas must hold a write before it is acknowledged. */
export interface ReplicaAckPolicy {
  minReplicas: number;
  /** WAIT's own timeout; below the command timeout so a missing replica is told apart from a dead primary. */
  timeoutMs: number;
}

// Kept beside the client rather than passed through every repository: the one place that sends
// writes (LuaScript.run) looks it up, so no repository can forget it.
const policies = new WeakMap<RedisClient, ReplicaAckPolicy>();

export function requireReplicaAcks(client: RedisClient, policy: ReplicaAckPolicy): void {
  if (policy.minReplicas > 0) policies.set(client, policy);
}

export function replicaAckPolicyOf(client: RedisClient): ReplicaAckPolicy | undefined {
  return policies.get(client);
}

/**
 * The primary applied the write but fewer replicas than required confirmed it within the timeout:
 * a failover now could lose it. Its outcome, as far as the caller can rely on it, is unknown.
 */
export class ReplicationUnconfirmedError extends WriteOutcomeUnknownError {
  constructor(operation: string, acknowledged: number, policy: ReplicaAckPolicy) {
    super(
      operation,
      new Error(
        `WAIT: ${acknowledged} of ${policy.minReplicas} replica(s) acknowledged within ${policy.timeoutMs} ms`,
      ),
    );
    this.name = 'ReplicationUnconfirmedError';
  }
}

/** Shortfalls noted while a caller (the Idempotency-Key interceptor) defers the decision. */
export interface ReplicationFrame {
  shortfall?: ReplicationUnconfirmedError;
}

/**
 * Inside this scope a shortfall does not fail the write at once: the request finishes, its
 * response can be stored under its Idempotency-Key, and only then is the caller answered 503. The
 * retry with that key replays the stored response instead of writing a second time.
 */
export const replicationScope = new AsyncLocalStorage<ReplicationFrame>();

/** Fails the write now, or notes the shortfall for the enclosing scope to raise later. */
export function reportShortfall(error: ReplicationUnconfirmedError): void {
  const frame = replicationScope.getStore();
  if (!frame) throw error;
  frame.shortfall ??= error;
}

/**
 * Judges the reply of the WAIT that followed a write in the same pipeline. The write itself was
 * applied; only its replication is in doubt, so a failed or short WAIT is an unknown outcome.
 */
export function judgeWait(
  operation: string,
  [waitError, acknowledged]: [Error | null, unknown],
  policy: ReplicaAckPolicy,
): void {
  if (waitError) throw new WriteOutcomeUnknownError(operation, waitError);
  if (typeof acknowledged !== 'number' || acknowledged < policy.minReplicas) {
    reportShortfall(new ReplicationUnconfirmedError(operation, Number(acknowledged ?? 0), policy));
  }
}
