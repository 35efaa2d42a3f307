import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { classifyStoreFailure, type StoreFailure } from '../store-errors';
import { beforeDeadline, LATE } from './deadline';
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
  /**
   * A replica read not answered within this is answered by the primary instead, and the replica
   * is left at once (REDIS_REPLICA_READ_TIMEOUT_MS).
   */
  readTimeoutMs?: number;
}

const DEFAULT_PROBE_INTERVAL_MS = 1000;
const DEFAULT_PROBE_TIMEOUT_MS = 500;
const DEFAULT_REPLICA_READ_TIMEOUT_MS = 500;

// Failures of a replica read that the primary may not share: the read is simply sent there.
const REPLICA_TROUBLE: ReadonlySet<StoreFailure> = new Set([
  'unreachable',
  'loading',
  'busy',
  'cluster_reconfiguring',
]);

const fallbackReads = new Counter({
  name: 'masa_redis_replica_fallback_reads_total',
  help: 'Reads meant for a replica (REDIS_READ_FROM=replica) served by the primary (on Cluster: the slot master) because the replica was not fit, failed the read or did not answer it within REDIS_REPLICA_READ_TIMEOUT_MS',
});

/** A read sent to a replica, and the verdict on that replica (unknown when ioredis chose alone). */
interface ReplicaRead<T> {
  reply: Promise<T>;
  on?: Verdict;
}

/** Whether one replica may serve reads; each change of mind is logged once. */
class Verdict {
  fit = false;
  private judged = false;
  private reason = 'not probed yet';
  private readonly logger = new Logger('Redis');

  /** `replica` names the node in the log lines (a Cluster has several); undefined for the one. */
  constructor(private readonly replica?: string) {}

  judge(reason: string | undefined): void {
    const fit = reason === undefined;
    const first = !this.judged;
    this.judged = true;
    if (fit === this.fit && !first) return;
    this.fit = fit;
    const which = this.replica === undefined ? 'the replica' : `replica ${this.replica}`;
    if (!fit) {
      this.logger.warn(
        this.replica === undefined
          ? `replica reads fall back to the primary: ${reason}`
          : `replica reads of ${which} fall back to its master: ${reason}`,
      );
    } else if (first) this.logger.log(`replica reads go to ${which}`);
    else this.logger.log(`replica reads back on ${which} (after: ${this.reason})`);
    this.reason = reason ?? this.reason;
  }
}

/** Why `node` should not serve reads now (see replicaUnfitness), or undefined when it may. */
async function probeNode(
  node: Redis,
  options: Required<ReplicaProbeOptions>,
): Promise<string | undefined> {
  // Cluster opens node connections lazily ('wait'): the probe's INFO opens them.
  if (node.status === 'end' || node.status === 'close') return 'the replica connection is closed';
  const info = await beforeDeadline(
    node.call('INFO', 'replication', 'persistence') as Promise<string>,
    options.timeoutMs,
  ).catch((error: Error) => error);
  if (info === LATE) return `the replica does not answer: no answer within ${options.timeoutMs} ms`;
  if (info instanceof Error) return `the replica does not answer: ${info.message}`;
  return replicaUnfitness(info, options.maxStalenessMs);
}

/**
 * Probes every `intervalMs` (and at once when asked), one probe at a time, until the reader
 * connection is closed for good (shutdown).
 */
abstract class ProbedRoute {
  abstract readonly replica: RedisClient;
  private probing?: Promise<void>;
  protected readonly options: Required<ReplicaProbeOptions>;

  constructor(
    readonly primary: RedisClient,
    options: ReplicaProbeOptions,
  ) {
    this.options = {
      maxStalenessMs: options.maxStalenessMs,
      intervalMs: options.intervalMs ?? DEFAULT_PROBE_INTERVAL_MS,
      timeoutMs: options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
      readTimeoutMs: options.readTimeoutMs ?? DEFAULT_REPLICA_READ_TIMEOUT_MS,
    };
  }

  get readTimeoutMs(): number {
    return this.options.readTimeoutMs;
  }

  /** The connection a stale-tolerant read is sent on. */
  abstract current(): RedisClient;

  /** Sends `read` on `current()` (a replica connection); `on` is the replica it went to. */
  abstract send<T>(read: (client: RedisClient) => Promise<T>): ReplicaRead<T>;

  /**
   * A replica read failed or was not answered in time: that replica serves no more reads until a
   * probe finds it fit, and the probe starts at once; the read itself goes to the primary.
   */
  failed(error: Error, on: Verdict | undefined): void {
    on?.judge(`a read failed: ${error.message}`);
    void this.probe();
  }

  protected abstract look(): Promise<void>;

  protected start(): void {
    this.replica.on('ready', () => void this.probe());
    this.schedule();
  }

  protected probe(): Promise<void> {
    this.probing ??= this.look().finally(() => (this.probing = undefined));
    return this.probing;
  }

  private schedule(): void {
    const timer = setTimeout(() => {
      // The replica connection was closed (shutdown): nothing left to route.
      if (this.replica.status === 'end') return;
      void this.probe().finally(() => this.schedule());
    }, this.options.intervalMs);
    timer.unref();
  }
}

/**
 * Standalone (REDIS_REPLICA_URL) and Sentinel: one replica, used while a probe finds it fit, else
 * the primary. Reads leave a stopped, loading or cut-off replica within about a second and return
 * when it is back; the switch is logged once each way.
 */
class ReplicaRoute extends ProbedRoute {
  private readonly verdict = new Verdict();

  constructor(
    primary: RedisClient,
    readonly replica: Redis,
    options: ReplicaProbeOptions,
  ) {
    super(primary, options);
    this.start();
  }

  current(): RedisClient {
    if (this.verdict.fit) return this.replica;
    fallbackReads.inc();
    return this.primary;
  }

  send<T>(read: (client: RedisClient) => Promise<T>): ReplicaRead<T> {
    return { reply: read(this.replica), on: this.verdict };
  }

  protected async look(): Promise<void> {
    this.verdict.judge(await probeNode(this.replica, this.options));
  }
}

/** ioredis Cluster `scaleReads` as a function: the slot's master first, then its replicas. */
export type ClusterReadChoice = (nodes: (Redis | undefined)[]) => Redis | Redis[] | undefined;

/**
 * Cluster: each replica is judged on its own, so a read of a slot goes to that slot's replica
 * while it is fit and to the slot's master otherwise. One stopped replica moves only its own
 * master's slots; judging them all together sent every read to the masters (or none).
 */
class ClusterReplicaRoute extends ProbedRoute {
  readonly replica: Cluster;
  /** By `host:port`: the reader's pool may replace a node's connection object. */
  private readonly verdicts = new Map<string, Verdict>();
  private saidNoReplicas = false;
  /** The replica `choose` picked last: read by `send` right after ioredis routed the command. */
  private chosen?: Verdict;

  constructor(
    primary: RedisClient,
    connect: (choose: ClusterReadChoice) => Cluster,
    options: ReplicaProbeOptions,
  ) {
    super(primary, options);
    this.replica = connect((nodes) => this.choose(nodes));
    this.start();
  }

  current(): RedisClient {
    return this.replica;
  }

  /**
   * ioredis calls `scaleReads` synchronously while the command is issued (built/cluster/index.js
   * sendCommand), so the replica chosen during `read` is the one this read went to. A read that
   * was routed later (a MOVED retry) or went to the master has no `on`: it gets no deadline.
   */
  send<T>(read: (client: RedisClient) => Promise<T>): ReplicaRead<T> {
    this.chosen = undefined;
    try {
      return { reply: read(this.replica), on: this.chosen };
    } finally {
      this.chosen = undefined;
    }
  }

  /** Called by ioredis for every read-only command with a slot; no replica fit = the master. */
  private choose(nodes: (Redis | undefined)[]): Redis | Redis[] | undefined {
    const fit: [Redis, Verdict][] = [];
    for (const node of nodes.slice(1)) {
      const verdict = node && this.verdicts.get(nameOf(node));
      if (node && verdict?.fit) fit.push([node, verdict]);
    }
    if (fit.length > 0) {
      // Sampled here rather than by ioredis, so that `send` knows which replica to blame.
      const [node, verdict] = fit[Math.floor(Math.random() * fit.length)];
      this.chosen = verdict;
      return node;
    }
    fallbackReads.inc();
    return nodes[0];
  }

  protected async look(): Promise<void> {
    const replicas = this.replica.nodes('slave');
    if (replicas.length === 0 && !this.saidNoReplicas) {
      new Logger('Redis').warn('replica reads fall back to the masters: no replica is known');
    }
    this.saidNoReplicas = replicas.length === 0;
    const names = new Set(replicas.map(nameOf));
    // A node that left the slot map (removed, or promoted to master) is judged afresh if it returns.
    for (const name of this.verdicts.keys()) if (!names.has(name)) this.verdicts.delete(name);
    await Promise.all(
      replicas.map(async (node) => {
        const reason = await probeNode(node, this.options);
        const name = nameOf(node);
        let verdict = this.verdicts.get(name);
        if (verdict === undefined) this.verdicts.set(name, (verdict = new Verdict(name)));
        verdict.judge(reason);
      }),
    );
  }
}

function nameOf(node: Redis): string {
  return `${node.options.host ?? ''}:${node.options.port ?? ''}`;
}

// Kept beside the primary client, like the replica-ack policy, so repositories keep one injected
// client and the choice of connection stays in the connection layer.
const routes = new WeakMap<RedisClient, ProbedRoute>();

/** Standalone or Sentinel: read from `reader` while it is fit. */
export function attachReader(
  primary: RedisClient,
  reader: Redis,
  options: ReplicaProbeOptions,
): void {
  routes.set(primary, new ReplicaRoute(primary, reader, options));
}

/**
 * Cluster: `connect` opens the reader with the given `scaleReads`, which sends each slot's reads
 * to its replica while that replica is fit.
 */
export function attachClusterReader(
  primary: RedisClient,
  connect: (choose: ClusterReadChoice) => Cluster,
  options: ReplicaProbeOptions,
): void {
  routes.set(primary, new ClusterReplicaRoute(primary, connect, options));
}

/**
 * Runs a read that tolerates staleness (a GET by id, a read-only script) on a fit replica, else on
 * the primary; a replica that fails it (down, loading, busy) or does not answer it within
 * `readTimeoutMs` is left for the primary at once and the read is sent there. Only for reads:
 * `read` is sent twice when the replica is late, which a write (or a read deciding a write) must
 * never be. Replication is asynchronous, so such a read may miss a write acknowledged a moment
 * ago; anything that reads to decide a write (CAS, idempotency, rate limits) must use the primary
 * client itself.
 */
export async function readPreferringReplica<T>(
  primary: RedisClient,
  read: (client: RedisClient) => Promise<T>,
): Promise<T> {
  const route = routes.get(primary);
  const client = route ? route.current() : primary;
  if (!route || client === primary) return read(primary);
  const sent = route.send(read);
  try {
    // A frozen replica would hold the read for the whole command timeout (2 s by default), and
    // the probe needs up to 1.5 s to notice; the deadline bounds what such reads wait. A read
    // that went to a Cluster master (no fit replica) waits the command timeout as any primary read.
    const reply =
      sent.on === undefined
        ? await sent.reply
        : await beforeDeadline(sent.reply, route.readTimeoutMs);
    if (reply !== LATE) return reply;
    route.failed(new Error(`no answer within ${route.readTimeoutMs} ms`), sent.on);
  } catch (error) {
    const failure = classifyStoreFailure(error);
    if (failure === undefined || !REPLICA_TROUBLE.has(failure)) throw error;
    route.failed(error as Error, sent.on);
  }
  fallbackReads.inc();
  return read(primary);
}

/** The replica connection, when one was opened (to close it with the primary). */
export function attachedReader(primary: RedisClient): RedisClient | undefined {
  return routes.get(primary)?.replica;
}
