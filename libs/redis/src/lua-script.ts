import { createHash } from 'node:crypto';
import type { RedisClient } from './connection/redis-client.factory';

/**
 * A Lua script sent by SHA (EVALSHA) with a fallback to EVAL when the server has not seen it yet
 * (fresh start, failover, SCRIPT FLUSH). Works the same on Cluster: the first key routes the call.
 */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClient, keys: string[], args: (string | number)[]): Promise<unknown> {
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
