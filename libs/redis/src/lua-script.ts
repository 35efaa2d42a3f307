import { createHash } from 'node:crypto';
import type { RedisClient } from './connection/redis-client.factory';
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
}

/** Removes data only: may run when Redis is out of memory, which is how memory is freed. */
export const FREES_MEMORY: LuaScriptOptions = { allowOom: true };
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
    const flags = [
      ...(this.writes ? [] : ['no-writes']),
      ...(options.allowOom ? ['allow-oom'] : []),
    ];
    this.source = `#!lua${flags.length > 0 ? ` flags=${flags.join(',')}` : ''}\n${body}`;
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  async run(client: RedisClient, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await this.send(client, keys, args);
    } catch (error) {
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
}
