import Redis from 'ioredis';
import { createRedisClient, type RedisClient } from '@app/redis/connection/redis-client.factory';
import { RedisServer } from './redis-server';

/**
 * What a repository integration test needs: a private redis-server, the client the repositories
 * use (connected, with the production options) and a raw client for looking behind their back.
 */
export interface RedisHarness {
  server: RedisServer;
  client: RedisClient;
  raw: Redis;
  stop(): Promise<void>;
}

export async function startRedisHarness(commandTimeoutMs = 1000): Promise<RedisHarness> {
  const server = await RedisServer.start();
  const client = createRedisClient({ url: server.url, commandTimeoutMs, connectTimeoutMs: 500 });
  const raw = new Redis(server.port, '127.0.0.1');
  await new Promise((resolve) => client.once('ready', resolve));
  return {
    server,
    client,
    raw,
    async stop() {
      client.disconnect();
      raw.disconnect();
      await server.dispose();
    },
  };
}
