import { Logger } from '@nestjs/common';
import { Cluster, type Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { classifyStoreFailure, type StoreFailure } from '../store-errors';
import type { RedisClient } from './redis-client.factory';
import { replicaUnfitness } from './replica-health';

/** `REDIS_READ_FROM`: where plain reads go. Writes and read-then-write calls always use the primary. */
export type ReadFrom = 'primary' | 'replica';

export interface ReplicaProbeOptions {
  /** How long a replica may be cut off from its master and still serve reads. */
  maxStalenessMs: number;
  /** How often the replica is looked at (and how soon reads return to it). */
  intervalMs?: number;
  /** A probe slower than this counts as a replica that cannot answer (a stopped process). */
  timeoutMs?: number;
}

const DEFAULT_PROBE_INTERVAL_MS = 1000;
const DEFAULT_PROBE_TIMEOUT_MS = 500;

// Failures of a replica read that the primary may not share: the read is simply sent there.
const REPLICA_TROUBLE: ReadonlySet<StoreFailure> = new Set([
  'unreachable',
  'loading',
  'busy',
  'cluster_reconfiguring',
]);

const fallbackReads = new Counter({
  name: 'masa_redis_replica_fallback_reads_total',
  help: 'Reads meant for a replica (REDIS_READ_FROM=replica) served by the primary because no replica was fit',
});

/**
 * Where stale-tolerant reads go: the replica while a probe finds it fit, else the primary. The
 * probe runs every `intervalMs` (and right after a replica read failed), so reads leave a stopped,
 * loading or cut-off replica within about a second and return when it is back; the switch is
 * logged once each way.
 */
class ReplicaRoute {
  private fit = false;
  private judged = false;
  private reason = 'not probed yet';
  private probing?: Promise<void>;
  private readonly logger = new Logger('Redis');
  private readonly intervalMs: number;
  private readonly timeoutMs: number;

  constructor(
    readonly primary: RedisClient,
    readonly replica: RedisClient,
    private readonly options: ReplicaProbeOptions,
  ) {
    this.intervalMs = options.intervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    replica.on('ready', () => void this.probe());
    this.schedule();
  }

  current(): RedisClient {
    if (this.fit) return this.replica;
    fallbackReads.inc();
    return this.primary;
  }

  /** A replica read failed: stop using it until a probe finds it fit again. */
  failed(error: Error): void {
    this.judge(`a read failed: ${error.message}`);
    void this.probe();
  }

  private probe(): Promise<void> {
    this.probing ??= this.look()
      .then((reason) => this.judge(reason))
      .finally(() => (this.probing = undefined));
    return this.probing;
  }

  private schedule(): void {
    const timer = setTimeout(() => {
      // The replica connection was closed (shutdown): nothing left to route.
      if (this.replica.status === 'end') return;
      void this.probe().finally(() => this.schedule());
    }, this.intervalMs);
    timer.unref();
  }

  private async look(): Promise<string | undefined> {
    const nodes: Redis[] =
      this.replica instanceof Cluster ? this.replica.nodes('slave') : [this.replica];
    // A Cluster reader spreads reads over every replica, so all of them must be fit.
    if (nodes.length === 0) return 'no replica is known';
    for (const node of nodes) {
      // Cluster opens node connections lazily ('wait'): the probe's INFO opens them.
      if (node.status === 'end' || node.status === 'close')
        return 'the replica connection is closed';
      let timer: NodeJS.Timeout | undefined;
      const info = await Promise.race([
        node.call('INFO', 'replication', 'persistence') as Promise<string>,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        }),
      ])
        .catch((error: Error) => error)
        .finally(() => clearTimeout(timer));
      if (info instanceof Error) return `the replica does not answer: ${info.message}`;
      const unfit = replicaUnfitness(info, this.options.maxStalenessMs);
      if (unfit) return unfit;
    }
    return undefined;
  }

  private judge(reason: string | undefined): void {
    const fit = reason === undefined;
    const first = !this.judged;
    this.judged = true;
    if (fit === this.fit && !first) return;
    this.fit = fit;
    if (!fit) this.logger.warn(`replica reads fall back to the primary: ${reason}`);
    else if (first) this.logger.log('replica reads go to the replica');
    else this.logger.log(`replica reads back on the replica (after: ${this.reason})`);
    this.reason = reason ?? this.reason;
  }
}

// Kept beside the primary client, like the replica-ack policy, so repositories keep one injected
// client and the choice of connection stays in the connection layer.
const routes = new WeakMap<RedisClient, ReplicaRoute>();

export function attachReader(
  primary: RedisClient,
  reader: RedisClient,
  options: ReplicaProbeOptions,
): void {
  routes.set(primary, new ReplicaRoute(primary, reader, options));
}

/**
 * Runs a read that tolerates staleness (a GET by id, a read-only script) on a fit replica, else on
 * the primary; a replica that fails it (down, loading, busy) is left for the primary at once and
 * the read is sent there. Replication is asynchronous, so such a read may miss a write
 * acknowledged a moment ago; anything that reads to decide a write (CAS, idempotency, rate limits)
 * must use the primary client itself.
 */
export async function readPreferringReplica<T>(
  primary: RedisClient,
  read: (client: RedisClient) => Promise<T>,
): Promise<T> {
  const route = routes.get(primary);
  const client = route ? route.current() : primary;
  if (!route || client === primary) return read(primary);
  try {
    return await read(client);
  } catch (error) {
    const failure = classifyStoreFailure(error);
    if (failure === undefined || !REPLICA_TROUBLE.has(failure)) throw error;
    route.failed(error as Error);
    fallbackReads.inc();
    return read(primary);
  }
}

/** The replica connection, when one was opened (to close it with the primary). */
export function attachedReader(primary: RedisClient): RedisClient | undefined {
  return routes.get(primary)?.replica;
}
