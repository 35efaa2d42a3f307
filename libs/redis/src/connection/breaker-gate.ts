import Redis, { Cluster, Command } from 'ioredis';
import { classifyStoreFailure, StoreUnavailableError } from '../store-errors';
import { CircuitBreaker, type Admission, type BreakerPolicy } from './circuit-breaker';
import type { RedisClient } from './redis-client.factory';

export interface BreakerGateOptions extends BreakerPolicy {
  /** Pause between probe PINGs while the breaker is open. */
  probeIntervalMs: number;
  /** A probe PING slower than this counts as unanswered (well below the command timeout). */
  probeTimeoutMs: number;
}

/** Raised for a command the open breaker refused before it reached the socket. */
export class BreakerOpenError extends StoreUnavailableError {
  constructor() {
    super(
      'circuit breaker open: Redis has not been answering; refused without sending',
      'unreachable',
    );
    this.name = 'BreakerOpenError';
  }
}

type SendCommand = (command: Command, stream?: unknown, node?: unknown) => unknown;

// Only these mean "Redis did not answer"; everything else (an error reply) is Redis answering.
function isNoAnswer(error: unknown): boolean {
  return !(error instanceof BreakerOpenError) && classifyStoreFailure(error) === 'unreachable';
}

const breakers = new WeakMap<RedisClient, CircuitBreaker>();
const nodeBreakers = new WeakMap<Cluster, Map<Redis, NodeBreaker>>();

/** The breaker in front of one node connection of a Cluster client. */
export interface NodeBreaker {
  /** `host:port` of the node, as in the Cluster's slot map. */
  node: string;
  breaker: CircuitBreaker;
}

/** The breaker guarding this client, if one was attached (a Cluster has one per node instead). */
export function breakerOf(client: RedisClient): CircuitBreaker | undefined {
  return breakers.get(client);
}

/**
 * Every breaker in front of this client: its own, or one per node connection of a Cluster (of its
 * masters only with `role` master).
 */
export function breakersOf(client: RedisClient, role: 'all' | 'master' = 'all'): CircuitBreaker[] {
  const own = breakers.get(client);
  if (own) return [own];
  const guarded = client instanceof Cluster ? nodeBreakers.get(client) : undefined;
  if (!guarded || !(client instanceof Cluster)) return [];
  return client.nodes(role).flatMap((redis) => guarded.get(redis)?.breaker ?? []);
}

/**
 * Puts a circuit breaker in front of every command of `client`: ioredis sends every command, and
 * every command of a pipeline or MULTI, through the client's `sendCommand`, so wrapping it there
 * covers repositories, scripts, the rate limiter and health alike. A pipeline is admitted or
 * refused whole (a MULTI missing a command would apply the rest). While the breaker is open, one
 * PING at a time probes Redis in the background, bypassing the gate; it stops with the client.
 * A Cluster client gets one breaker per node instead (see attachNodeBreakers).
 */
export function attachBreaker(client: RedisClient, options: BreakerGateOptions): CircuitBreaker {
  if (client instanceof Cluster) {
    throw new Error('a Cluster client gets one breaker per node: use attachNodeBreakers');
  }
  const breaker = gate(client, options, 'command');
  breakers.set(client, breaker);
  return breaker;
}

/**
 * One breaker per node connection of a Cluster client, present and future ('+node'): one master
 * that stops answering must not refuse the commands of the slots the others serve. ioredis' Cluster
 * picks the node for each command (and for each retry after MOVED, ASK or a closed connection) and
 * hands it to that node's own connection's `sendCommand`, which is where each gate sits. `onNode`
 * gets each new breaker (to log and export it), `onNodeGone` the address of a node the Cluster
 * dropped (its breaker and probe stop with its connection).
 */
export function attachNodeBreakers(
  cluster: Cluster,
  options: BreakerGateOptions,
  onNode: (guarded: NodeBreaker) => void,
  onNodeGone: (node: string) => void,
): void {
  const guarded = new Map<Redis, NodeBreaker>();
  nodeBreakers.set(cluster, guarded);
  const add = (redis: Redis) => {
    if (guarded.has(redis)) return;
    const entry = { node: nodeAddress(redis), breaker: gate(redis, options, 'attempt') };
    guarded.set(redis, entry);
    onNode(entry);
  };
  cluster.nodes('all').forEach(add);
  cluster.on('+node', add);
  cluster.on('-node', (redis: Redis) => {
    const entry = guarded.get(redis);
    if (!entry) return;
    guarded.delete(redis);
    // The same address may already be back under a new connection (ioredis recreates one).
    if (![...guarded.values()].some(({ node }) => node === entry.node)) onNodeGone(entry.node);
  });
}

function nodeAddress(redis: Redis): string {
  return `${redis.options.host ?? 'localhost'}:${redis.options.port ?? 6379}`;
}

// A Cluster command can be sent to several nodes in turn (a MOVED reply, a retry after a closed
// connection): only the node it was last sent to has its outcome, so each command keeps the one
// attempt in flight, settled by whatever resolves or rejects the command next.
type Attempt = (answered: boolean) => void;
const attempts = new WeakMap<Command, Attempt>();
const watched = new WeakSet<Command>();

function sentToNode(command: Command, attempt: Attempt): void {
  // A command is sent again only after its last attempt settled; just in case, never strand a trial.
  attempts.get(command)?.(true);
  attempts.set(command, attempt);
  if (watched.has(command)) return;
  watched.add(command);
  const settle = (answered: boolean) => {
    const current = attempts.get(command);
    attempts.delete(command);
    current?.(answered);
  };
  // Cluster re-routes a command from inside its reject (set before the first node saw it), so the
  // node's outcome must be taken here, before that, not from the command's final promise.
  const { resolve, reject } = command;
  command.resolve = (value: unknown) => {
    settle(true);
    resolve.call(command, value);
  };
  command.reject = (error: Error) => {
    settle(!isNoAnswer(error));
    reject.call(command, error);
  };
}

/**
 * The gate itself. `command`: the command's final outcome is this connection's (a plain client).
 * `attempt`: each time a Cluster node is sent a command, that node's reply or silence counts for it.
 * Pipelines are judged by their first command's promise either way: a Cluster pipeline goes to one
 * node, and is re-sent whole (new promises) after a redirection.
 */
function gate(
  client: Redis,
  options: BreakerGateOptions,
  outcomes: 'command' | 'attempt',
): CircuitBreaker {
  const breaker = new CircuitBreaker(options);
  const original = client.sendCommand.bind(client) as SendCommand;
  const pipelines = new WeakMap<object, Admission>();
  const probes = new WeakSet<Command>();

  const observe = (command: Command, admission: Admission, batch: boolean) => {
    if (outcomes === 'attempt' && !batch) {
      sentToNode(command, (answered) =>
        answered ? breaker.succeeded(admission) : breaker.failed(admission),
      );
      return;
    }
    command.promise.then(
      () => breaker.succeeded(admission),
      (error: unknown) =>
        isNoAnswer(error) ? breaker.failed(admission) : breaker.succeeded(admission),
    );
  };

  const gated: SendCommand = (command, stream, node) => {
    // Not ready: ioredis fails the command at once itself (no offline queue), and the handshake
    // of a reconnect (AUTH, INFO) must get through for the breaker ever to close.
    const batch = typeof stream === 'object' && stream !== null ? stream : undefined;
    if (probes.has(command) || client.status !== 'ready') {
      if (!probes.has(command)) observe(command, 'pass', batch !== undefined);
      return original(command, stream, node);
    }
    let admission = batch ? pipelines.get(batch) : undefined;
    if (admission === undefined) {
      admission = breaker.admit();
      if (batch) pipelines.set(batch, admission);
      // One outcome per pipeline: its commands share one round trip.
      if (admission !== 'reject') observe(command, admission, batch !== undefined);
    }
    if (admission === 'reject') {
      command.reject(new BreakerOpenError());
      return command.promise;
    }
    return original(command, stream, node);
  };
  (client as unknown as { sendCommand: SendCommand }).sendCommand = gated;

  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const probe = () => {
    timer = undefined;
    if (stopped || breaker.state !== 'open') return;
    const ping = new Command('ping', []);
    ping.setTimeout(options.probeTimeoutMs);
    probes.add(ping);
    ping.promise.then(
      () => breaker.probeAnswered(),
      () => undefined,
    );
    Promise.resolve(original(ping)).catch(() => undefined);
    ping.promise.finally(() => schedule(options.probeIntervalMs)).catch(() => undefined);
  };
  const schedule = (delayMs: number) => {
    if (stopped || timer !== undefined || breaker.state !== 'open') return;
    timer = setTimeout(probe, delayMs);
    timer.unref();
  };
  // The first probe goes at once: timeouts can also come from this process (an event-loop stall
  // fires command timers before the waiting replies are read), and then Redis answers at once.
  breaker.onTransition((_, to) => {
    if (to === 'open') schedule(0);
  });
  // A reconnect's handshake (AUTH, the INFO ready check) was answered: as good as a probe.
  const onReady = () => breaker.probeAnswered();
  client.on('ready', onReady);
  client.once('end', () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    client.off('ready', onReady);
  });
  return breaker;
}
