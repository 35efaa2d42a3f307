import * as diagnostics from 'node:diagnostics_channel';

/** What ioredis (>= 5.8) publishes for each command on the `ioredis:command` tracing channel. */
export interface RedisCommandEvent {
  command: string;
  database?: number;
  serverAddress?: string;
  serverPort?: number;
  error?: unknown;
}

/** Called synchronously in the caller's async context (start) and when the reply settles (end). */
export interface RedisCommandListener<State> {
  start(event: RedisCommandEvent): State;
  end(event: RedisCommandEvent, state: State, error: unknown): void;
}

type Carrier = RedisCommandEvent & Record<symbol, unknown>;

/**
 * Subscribes to ioredis' own command tracing channel instead of wrapping the client: ioredis
 * publishes one event per command written to a connection (standalone, Sentinel and every Cluster
 * node alike, pipelines included), and builds nothing when no one listens. Returns the unsubscribe.
 */
export function subscribeRedisCommands<State>(listener: RedisCommandListener<State>): () => void {
  const channel = diagnostics.tracingChannel<unknown, Carrier>('ioredis:command');
  // Every subscriber sees the same event object: each keeps its state under its own key.
  const state = Symbol('redisCommandState');
  const handlers = {
    start(event: Carrier) {
      try {
        event[state] = listener.start(event);
      } catch {
        // Observing must never fail the command it observes.
      }
    },
    end() {},
    asyncStart() {},
    asyncEnd(event: Carrier) {
      try {
        listener.end(event, event[state] as State, event.error);
      } catch {
        // as above
      }
    },
    error() {},
  };
  channel.subscribe(handlers);
  return () => channel.unsubscribe(handlers);
}
