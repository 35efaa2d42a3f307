import Redis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import { parseRedisUrl, type RedisTarget } from './redis-url';

export type RedisClient = Redis | Cluster;

export interface RedisConnectionOptions {
  url: string;
  /** Upper bound for one command, so a stalled server turns into a 503 instead of a hung request. */
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  /**
   * Commands issued in the same turn of the event loop go out in one write (ioredis
   * enableAutoPipelining): the rate-limit check and a request's read share a flush, and under load
   * many requests share a write syscall. Off by default; see the trade-offs in README "Performance".
   */
  autoPipelining?: boolean;
}

/**
 * Connection options, chosen on purpose:
 * - enableOfflineQueue: false. While disconnected, commands fail at once instead of queueing
 *   behind a reconnect; the API answers 503 within milliseconds rather than holding requests open.
 * - maxRetriesPerRequest: 1. A command caught by a dropped connection is retried once after
 *   reconnecting, never indefinitely.
 * - retryStrategy: reconnect for ever with capped backoff (100 ms steps, 2 s max), so the API heals
 *   on its own when Redis returns; no restart needed.
 * - autoResendUnfulfilledCommands: false. A command whose reply was lost when the connection
 *   dropped may already have run; re-sending it after the reconnect would apply a write twice (a
 *   create duplicated, an If-Match update answered 412 for its own success). It fails instead, by
 *   the command timeout at the latest, and the API answers 503 "outcome unknown, retry with the same
 *   Idempotency-Key" (see WriteOutcomeUnknownError).
 * - commandTimeout: bounds a command on a live but stalled connection (e.g. a paused server).
 * - lazyConnect: false. Connect at start-up so readiness reflects reality from the first probe.
 */
function baseOptions(options: RedisConnectionOptions, target: RedisTarget): RedisOptions {
  return {
    username: target.username,
    password: target.password,
    tls: target.tls ? {} : undefined,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
    retryStrategy: (attempt: number) => Math.min(attempt * 100, 2000),
    enableReadyCheck: true,
    enableAutoPipelining: options.autoPipelining ?? false,
  };
}

export function createRedisClient(options: RedisConnectionOptions): RedisClient {
  const target = parseRedisUrl(options.url);
  const redisOptions = baseOptions(options, target);
  switch (target.kind) {
    case 'standalone':
      return new Redis({
        ...redisOptions,
        host: target.node.host,
        port: target.node.port,
        db: target.db,
      });
    case 'sentinel':
      return new Redis({
        ...redisOptions,
        sentinels: target.sentinels,
        name: target.masterName,
        db: target.db,
        sentinelPassword: target.password,
        sentinelUsername: target.username,
      });
    case 'cluster': {
      const clusterOptions: ClusterOptions = {
        enableOfflineQueue: false,
        enableAutoPipelining: options.autoPipelining ?? false,
        maxRedirections: 16,
        clusterRetryStrategy: (attempt: number) => Math.min(attempt * 100, 2000),
        redisOptions,
      };
      return new Cluster(target.nodes, clusterOptions);
    }
  }
}

/** The primaries to ask for server-wide facts (INFO, SCAN): every master on Cluster, else the one. */
export function primaries(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}
