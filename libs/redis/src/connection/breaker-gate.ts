import { Command } from 'ioredis';
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

/** The breaker guarding this client, if one was attached. */
export function breakerOf(client: RedisClient): CircuitBreaker | undefined {
  return breakers.get(client);
}

/**
 * Puts a circuit breaker in front of every command of `client`: ioredis sends every command, and
 * every command of a pipeline or MULTI, through the client's `sendCommand`, so wrapping it there
 * covers repositories, scripts, the rate limiter and health alike. A pipeline is admitted or
 * refused whole (a MULTI missing a command would apply the rest). While the breaker is open, one
 * PING at a time probes Redis in the background, bypassing the gate; it stops with the client.
 */
export function attachBreaker(client: RedisClient, options: BreakerGateOptions): CircuitBreaker {
  const breaker = new CircuitBreaker(options);
  breakers.set(client, breaker);
  const original = client.sendCommand.bind(client) as SendCommand;
  const pipelines = new WeakMap<object, Admission>();
  const probes = new WeakSet<Command>();

  const observe = (command: Command, admission: Admission) => {
    command.promise.then(
      () => breaker.succeeded(admission),
      (error: unknown) =>
        isNoAnswer(error) ? breaker.failed(admission) : breaker.succeeded(admission),
    );
  };

  const gated: SendCommand = (command, stream, node) => {
    // Not ready: ioredis fails the command at once itself (no offline queue), and the handshake
    // of a reconnect (AUTH, INFO) must get through for the breaker ever to close.
    if (probes.has(command) || client.status !== 'ready') {
      if (!probes.has(command)) observe(command, 'pass');
      return original(command, stream, node);
    }
    const batch = typeof stream === 'object' && stream !== null ? stream : undefined;
    let admission = batch ? pipelines.get(batch) : undefined;
    if (admission === undefined) {
      admission = breaker.admit();
      if (batch) pipelines.set(batch, admission);
      // One outcome per pipeline: its commands share one round trip.
      if (admission !== 'reject') observe(command, admission);
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
