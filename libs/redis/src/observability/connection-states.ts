import { Cluster } from 'ioredis';
import type { RedisClient } from '../connection/redis-client.factory';

/** Bounded label values for a connection's state (ioredis has seven statuses). */
export type ConnectionState = 'ready' | 'connecting' | 'closed';

/** Connections of one named client, counted by state. */
export interface ClientConnections {
  client: string;
  connections: Record<ConnectionState, number>;
}

function stateOf(status: string): ConnectionState {
  if (status === 'ready') return 'ready';
  if (status === 'close' || status === 'end') return 'closed';
  // wait, connecting, connect (TCP up, handshake pending), reconnecting
  return 'connecting';
}

/**
 * The connections ioredis holds for the named clients, read from their status fields (no round
 * trip). ioredis multiplexes every command over one connection per server, so there is no pool
 * with idle members: a standalone or Sentinel client is one connection, a Cluster client one per
 * node it knows (replicas included), or its own status before it has discovered any node.
 */
export class ConnectionStates {
  private readonly clients = new Map<string, RedisClient>();

  /** Adds a client (e.g. a subscriber made with duplicate()) under a bounded name. */
  register(name: string, client: RedisClient): void {
    this.clients.set(name, client);
  }

  read(): ClientConnections[] {
    return [...this.clients].map(([client, redis]) => {
      const connections: Record<ConnectionState, number> = { ready: 0, connecting: 0, closed: 0 };
      const nodes = redis instanceof Cluster ? redis.nodes('all') : [redis];
      if (nodes.length === 0) connections[stateOf(redis.status)]++;
      for (const node of nodes) connections[stateOf(node.status)]++;
      return { client, connections };
    });
  }
}
