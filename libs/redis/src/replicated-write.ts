import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './connection/redis-client.factory';
import { judgeWait, replicaAckPolicyOf } from './connection/replica-acks';
import { isReplyLost, storeCall, WriteOutcomeUnknownError } from './store-errors';

/*
 * Which writes wait for replicas (REDIS_MIN_REPLICAS_ACK) — the one rule, for scripts
 * (LuaScript's `awaitReplicas`) and for the plain commands below alike:
 *
 * A write waits when it is what a caller was told happened: a record and its indexes, a delete, a
 * revocation (an API key that comes back after a failover is a security hole), a webhook created,
 * deleted or asked to redeliver, an import, an erasure, and the stored response of an
 * Idempotency-Key (what a retry is answered with).
 *
 * A write does not wait when losing it in a failover is repaired by the system itself or changes
 * nothing a caller relies on: rate-limit counters, the pending marker of an Idempotency-Key,
 * purges of expired data (done again), cache hit/miss statistics and request rollups (counters),
 * the tenant registry (re-registered by the next write or within a minute), audit seals (the
 * sealer seals the head again), and webhook delivery bookkeeping (leases, cursors, retries:
 * delivery is at least once, so a lost advance is a redelivery).
 */

export interface ReplicatedWriteOptions {
  /** Wraps the commands in MULTI/EXEC: applied together or not at all. */
  atomic?: boolean;
}

/**
 * Sends a write made of plain commands (not a script) and, under REDIS_MIN_REPLICAS_ACK, a WAIT
 * in the same pipeline: one round trip, and on Cluster the pipeline goes to the master owning the
 * commands' keys (which must share a slot), so WAIT reaches the node that applied them. A short
 * WAIT fails like a script's (503 write-outcome-unknown, or noted for the Idempotency-Key
 * interceptor); a lost reply is an unknown outcome, never re-sent. Returns the commands' replies
 * (with `atomic`, those of the transaction).
 */
export async function replicatedWrite(
  client: RedisClient,
  operation: string,
  commands: (pipeline: ChainableCommander) => void,
  options: ReplicatedWriteOptions = {},
): Promise<unknown[]> {
  const policy = replicaAckPolicyOf(client);
  const pipeline = client.pipeline();
  // MULTI/EXEC sent as plain commands inside the pipeline, so the WAIT after them stays outside
  // the transaction (inside one it could not block).
  if (options.atomic) void pipeline.call('MULTI');
  commands(pipeline);
  if (options.atomic) void pipeline.call('EXEC');
  const written = pipeline.length;
  if (policy) pipeline.wait(policy.minReplicas, policy.timeoutMs);
  return storeCall(async () => {
    let results: [Error | null, unknown][];
    try {
      results = (await pipeline.exec()) ?? [];
    } catch (error) {
      if (isReplyLost(error)) throw new WriteOutcomeUnknownError(operation, error as Error);
      throw error;
    }
    const replies = results.slice(0, written);
    const failed = replies.find(([error]) => error);
    if (failed?.[0]) {
      if (isReplyLost(failed[0])) throw new WriteOutcomeUnknownError(operation, failed[0]);
      throw failed[0];
    }
    const values = options.atomic
      ? transactionReplies(replies[replies.length - 1]?.[1])
      : replies.map(([, value]) => value);
    if (policy) {
      judgeWait(operation, results[written] ?? [new Error('WAIT returned no reply'), null], policy);
    }
    return values;
  });
}

/** EXEC's array; a command that failed inside the transaction fails the call. */
function transactionReplies(exec: unknown): unknown[] {
  const values = Array.isArray(exec) ? (exec as unknown[]) : [];
  const failed = values.find((value) => value instanceof Error);
  if (failed) throw failed;
  return values;
}
