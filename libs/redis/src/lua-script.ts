import { createHash } from 'node:crypto';
import type { RedisClient } from './connection/redis-client.factory';
import { readPreferringReplica } from './connection/read-replicas';
import { judgeWait, replicaAckPolicyOf, type ReplicaAckPolicy } from './connection/replica-acks';
import { isReplyLost, WriteOutcomeUnknownError } from './store-errors';

export interface LuaScriptOptions {
  /**
   * False for scripts that only read (`no-writes`): they run while Redis refuses writes (maxmemory,
   * a replica) and a lost reply is simply retried. A write whose reply is lost has an unknown
   * outcome and is reported as such, never re-sent.
   */
  writes?: boolean;
  /**
   * For scripts that only remove data (purges, deletes): they may run when Redis is out of memory,
   * which is how an operator frees it. Everything else is refused before it starts.
   */
  allowOom?: boolean;
  /**
   * False for writes whose loss in a failover does no harm (rate-limit counters, the pending
   * marker of an Idempotency-Key): they skip `REDIS_MIN_REPLICAS_ACK`. Default: every write waits.
   * The rule for which writes wait is in replicated-write.ts.
   */
  awaitReplicas?: boolean;
}

/** Removes data only: may run when Redis is out of memory, which is how memory is freed. */
export const FREES_MEMORY: LuaScriptOptions = { allowOom: true };
/**
 * Removes expired data only (purges, and the reads that purge before answering): may run out of
 * memory, and does not wait for replicas, so a read keeps answering while they are missing; a purge
 * lost in a failover is simply done again.
 */
export const PURGES_EXPIRED: LuaScriptOptions = { allowOom: true, awaitReplicas: false };
/** Reads only: runs while Redis refuses writes. */
export const READ_ONLY: LuaScriptOptions = { writes: false };

/**
 * A key of `key`'s hash slot that nothing ever writes, declared last by every script call (after the
 * script's own KEYS, so no script body sees it). While Redis Cluster moves that slot, a declared
 * key that is missing makes Redis answer TRYAGAIN (or ASK, then TRYAGAIN on the importing node)
 * before the script starts; the client retries and the call runs once the move is over. Without it,
 * a script could start on the old owner and then touch a key already moved, or one it deleted
 * itself a line earlier: Redis then aborts it with "non local key" after its first writes, and a
 * script never rolls back. Undefined for a key without a hash tag (no slot to guard).
 */
export function migrationFence(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  // An empty tag ("{}") hashes the whole key, so there is no slot to share.
  if (close <= open + 1) return undefined;
  return `${key.slice(0, close + 1)}:migration-fence`;
}

/**
 * A Lua script sent by SHA (EVALSHA) with a fallback to EVAL when the server has not seen it yet
 * (fresh start, failover, SCRIPT FLUSH). Works the same on Cluster: the first key routes the call,
 * and the migration fence of its slot keeps the script off a slot that is moving.
 */
export class LuaScript {
  readonly sha: string;
  readonly writes: boolean;
  readonly awaitReplicas: boolean;

  readonly source: string;

  /**
   * `body` gets a shebang line: with one, Redis 7 judges the script by its flags before running it
   * (out of memory, read-only replica) and refuses it whole. A script without one is checked per
   * command, so a script whose first write is a DEL runs on past `maxmemory`, and a refusal could
   * come halfway through, after earlier writes that a script never rolls back.
   */
  constructor(
    readonly name: string,
    body: string,
    options: LuaScriptOptions = {},
  ) {
    this.writes = options.writes ?? true;
    this.awaitReplicas = this.writes && (options.awaitReplicas ?? true);
    const flags = [
      ...(this.writes ? [] : ['no-writes']),
      ...(options.allowOom ? ['allow-oom'] : []),
    ];
    this.source = `#!lua${flags.length > 0 ? ` flags=${flags.join(',')}` : ''}\n${body}`;
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  async run(client: RedisClient, keys: string[], args: (string | number)[]): Promise<unknown> {
    const policy = this.awaitReplicas ? replicaAckPolicyOf(client) : undefined;
    try {
      if (policy) return await this.sendAndWait(client, keys, args, policy);
      if (this.writes) return await this.send(client, keys, args);
      // A read-only script may be served by a replica (REDIS_READ_FROM=replica).
      return await readPreferringReplica(client, (reader) =>
        reader === client ? this.send(client, keys, args) : this.sendReadOnly(reader, keys, args),
      );
    } catch (error) {
      if (error instanceof WriteOutcomeUnknownError) throw error;
      if (this.writes && isReplyLost(error)) {
        throw new WriteOutcomeUnknownError(this.name, error as Error);
      }
      throw error;
    }
  }

  private async send(
    client: RedisClient,
    scriptKeys: string[],
    args: (string | number)[],
  ): Promise<unknown> {
    const fence = migrationFence(scriptKeys[0]);
    const keys = fence === undefined ? scriptKeys : [...scriptKeys, fence];
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return client.eval(this.source, keys.length, ...keys, ...args);
      }
      throw error;
    }
  }

  /** EVALSHA_RO: marked read-only, so Cluster routes it to a replica and a replica accepts it. */
  private async sendReadOnly(
    client: RedisClient,
    keys: string[],
    args: (string | number)[],
  ): Promise<unknown> {
    try {
      return await client.evalsha_ro(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return client.eval_ro(this.source, keys.length, ...keys, ...args);
      }
      throw error;
    }
  }

  /**
   * The script and a WAIT in one pipeline: one round trip, and on Cluster the pipeline is routed by
   * the script's keys, so WAIT reaches the master that applied the write (WAIT itself has no key).
   */
  private async sendAndWait(
    client: RedisClient,
    keys: string[],
    args: (string | number)[],
    policy: ReplicaAckPolicy,
  ): Promise<unknown> {
    const exec = async (command: 'evalsha' | 'eval') => {
      const pipeline = client.pipeline();
      if (command === 'evalsha') pipeline.evalsha(this.sha, keys.length, ...keys, ...args);
      else pipeline.eval(this.source, keys.length, ...keys, ...args);
      const results = (await pipeline.wait(policy.minReplicas, policy.timeoutMs).exec()) ?? [];
      return results;
    };
    let results = await exec('evalsha');
    const first = results[0]?.[0];
    if (first instanceof Error && first.message.startsWith('NOSCRIPT'))
      results = await exec('eval');
    const [scriptError, reply] = results[0] ?? [new Error('pipeline returned no reply'), null];
    if (scriptError) throw scriptError;
    judgeWait(this.name, results[1] ?? [new Error('WAIT returned no reply'), null], policy);
    return reply;
  }
}
