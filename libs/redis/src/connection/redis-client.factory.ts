import Redis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import {
  attachClusterReader,
  attachReader,
  type ClusterReadChoice,
  type ReadFrom,
} from './read-replicas';
import { requireReplicaAcks } from './replica-acks';
import { parseRedisUrl, type RedisTarget } from './redis-url';

export type RedisClient = Redis | Cluster;

export interface RedisConnectionOptions {
  url: string;
  /** Upper bound for one command, so a stalled server turns into a 503 instead of a hung request. */
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  /**
   * Replicas that must confirm each write (WAIT) before it is acknowledged; 0 or omitted = off, the
   * write is acknowledged once the primary applied it (a failover may then lose it).
   */
  minReplicasAck?: number;
  /** WAIT's timeout, below commandTimeoutMs. */
  replicaAckTimeoutMs?: number;
  /** `replica`: reads that tolerate staleness go to a replica (see readPreferringReplica). Default primary. */
  readFrom?: ReadFrom;
  /**
   * How long a replica may be cut off from its master (`master_link_status:down`) and still serve
   * reads; past it, and while it is stopped or loading, reads go to the primary.
   */
  replicaMaxStalenessMs?: number;
  /**
   * A replica read not answered within this is answered by the primary instead, and that replica
   * is left until a probe finds it fit (so a frozen replica costs reads this much, not a command
   * timeout). Below commandTimeoutMs.
   */
  replicaReadTimeoutMs?: number;
  /** The replica to read from when `url` names a single node (Sentinel and Cluster find theirs). */
  replicaUrl?: string;
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
  const client = connect(options);
  if (options.readFrom === 'replica') {
    const probe = {
      maxStalenessMs: options.replicaMaxStalenessMs ?? DEFAULT_REPLICA_MAX_STALENESS_MS,
      readTimeoutMs: options.replicaReadTimeoutMs,
    };
    if (client instanceof Cluster) {
      attachClusterReader(client, (choose) => connectClusterReader(options, choose), probe);
    } else {
      attachReader(client, connectReader(options), probe);
    }
  }
  requireReplicaAcks(client, {
    minReplicas: options.minReplicasAck ?? 0,
    timeoutMs: options.replicaAckTimeoutMs ?? DEFAULT_REPLICA_ACK_TIMEOUT_MS,
  });
  return client;
}

export const DEFAULT_REPLICA_ACK_TIMEOUT_MS = 500;
export const DEFAULT_REPLICA_MAX_STALENESS_MS = 5000;

function connect(options: RedisConnectionOptions, extra: RedisOptions = {}): RedisClient {
  const target = parseRedisUrl(options.url);
  const redisOptions = { ...baseOptions(options, target), ...extra };
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
        // Never on a Cluster: ioredis groups an auto-pipeline by the slot map of the moment, and
        // while a slot moves a batch spanning the old and new owner is refused whole ("All keys in
        // the pipeline should belong to the same slots allocation group") — a 500 under resharding
        // (test/e2e/cluster-resharding.e2e-spec.ts). The rate-limit key and a tenant's data live in
        // different slots anyway, so one flush per read was not on offer here.
        enableAutoPipelining: false,
        maxRedirections: 16,
        clusterRetryStrategy: (attempt: number) => Math.min(attempt * 100, 2000),
        redisOptions: { ...redisOptions, enableAutoPipelining: false },
      };
      return new Cluster(target.nodes, clusterOptions);
    }
  }
}

/**
 * One more connection of its own to the primary (standalone or found by Sentinel), with the
 * production options and `extra` on top; undefined for a Cluster, which has no single primary.
 */
export function connectToPrimary(
  options: RedisConnectionOptions,
  extra: RedisOptions = {},
): Redis | undefined {
  if (parseRedisUrl(options.url).kind === 'cluster') return undefined;
  return connect(options, extra) as Redis;
}

/** A second connection for reads: a Sentinel-chosen replica, or REDIS_REPLICA_URL. */
function connectReader(options: RedisConnectionOptions): Redis {
  const target = parseRedisUrl(options.url);
  switch (target.kind) {
    case 'standalone': {
      if (options.replicaUrl === undefined) {
        throw new Error(
          'reading from a replica of a single node needs its URL (REDIS_REPLICA_URL)',
        );
      }
      if (parseRedisUrl(options.replicaUrl).kind === 'cluster') {
        throw new Error('REDIS_REPLICA_URL must name a single node when REDIS_URL does');
      }
      return connect({ ...options, url: options.replicaUrl }) as Redis;
    }
    case 'sentinel':
      return new Redis({
        ...baseOptions(options, target),
        sentinels: target.sentinels,
        name: target.masterName,
        role: 'slave',
        db: target.db,
        sentinelPassword: target.password,
        sentinelUsername: target.username,
      });
    case 'cluster':
      throw new Error('a Cluster reader is opened by connectClusterReader');
  }
}

/**
 * The Cluster connection for reads. Read-only commands (GET, HGETALL, EVALSHA_RO) go where
 * `choose` says among the slot's master and replicas: its replica while that one is fit.
 */
function connectClusterReader(options: RedisConnectionOptions, choose: ClusterReadChoice): Cluster {
  const target = parseRedisUrl(options.url);
  if (target.kind !== 'cluster') throw new Error('connectClusterReader needs a Cluster URL');
  return new Cluster(target.nodes, {
    enableOfflineQueue: false,
    maxRedirections: 16,
    scaleReads: choose,
    // Replicas join and move without a MOVED to tell the client: refresh the slot map
    // periodically, or reads stay on the masters it first saw.
    slotsRefreshInterval: 5000,
    clusterRetryStrategy: (attempt: number) => Math.min(attempt * 100, 2000),
    redisOptions: baseOptions(options, target),
  });
}

/** The primaries to ask for server-wide facts (INFO, SCAN): every master on Cluster, else the one. */
export function primaries(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}
