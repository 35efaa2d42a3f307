/**
 * npm run bench:replication-lag — how long after a write is acknowledged by the primary a replica
 * has it (what a REDIS_READ_FROM=replica read right after a write can miss).
 *
 * Starts a private primary and a replica of it (local redis-server processes). For BENCH_LAG_WRITES
 * writes (default 500), creates one session through the repository (the real create script),
 * takes the time at the primary's acknowledgement, then polls the replica (EXISTS, back to back)
 * until the record is there. Runs twice: with no other traffic, and while BENCH_LAG_WRITERS
 * writers (default 8) create sessions as fast as they can. Prints median, p99 and max per phase.
 * The figure includes one poll's round trip (~0.1 ms on loopback), so it is an upper bound.
 */
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { createRedisClient, type RedisClient } from '@app/redis/connection/redis-client.factory';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import { JsonPayloadCodec } from '@app/redis/payload-codec';
import { RedisSessionRepository } from '@app/redis/sessions/redis-session.repository';
import { RedisServer } from '../test/support/redis-server';

const WRITES = Number(process.env.BENCH_LAG_WRITES ?? 500);
const WRITERS = Number(process.env.BENCH_LAG_WRITERS ?? 8);
const TENANT = 'bench';
const keys = new RedisKeyBuilder('lag');

function newSession() {
  return {
    id: randomUUID(),
    config: { bench: true, padding: 'x'.repeat(512) },
    metadata: {},
    status: 'running' as const,
    createdBy: 'bench',
    ttlSeconds: 3600,
  };
}

async function replicaUp(replica: Redis): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await replica.info('replication')).includes('master_link_status:up')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the replica did not sync');
}

/** Milliseconds from each write's acknowledgement to its first sighting on the replica. */
async function lags(sessions: RedisSessionRepository, replica: Redis): Promise<number[]> {
  const result: number[] = [];
  for (let i = 0; i < WRITES; i++) {
    const session = newSession();
    await sessions.create(TENANT, [session]);
    const acknowledged = process.hrtime.bigint();
    const key = keys.sessions(TENANT).record(session.id);
    while ((await replica.exists(key)) === 0) {
      // Polled back to back: the replica's own pace is what is measured.
    }
    result.push(Number(process.hrtime.bigint() - acknowledged) / 1e6);
  }
  return result;
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `${values.length} writes: median ${at(0.5).toFixed(3)} ms, p99 ${at(0.99).toFixed(3)} ms, max ${sorted[sorted.length - 1].toFixed(3)} ms`;
}

async function main(): Promise<void> {
  const primary = await RedisServer.start();
  const replicaServer = await RedisServer.start(['--replicaof', '127.0.0.1', String(primary.port)]);
  const replica = new Redis(replicaServer.port, '127.0.0.1');
  const client: RedisClient = createRedisClient({
    url: primary.url,
    commandTimeoutMs: 10_000,
    connectTimeoutMs: 2000,
  });
  const loadClient: RedisClient = createRedisClient({
    url: primary.url,
    commandTimeoutMs: 10_000,
    connectTimeoutMs: 2000,
  });
  try {
    await replicaUp(replica);
    for (const c of [client, loadClient]) {
      if (c.status !== 'ready') await new Promise((resolve) => c.once('ready', resolve));
    }
    const codec = new JsonPayloadCodec();
    const sessions = new RedisSessionRepository(client, keys, codec);
    const load = new RedisSessionRepository(loadClient, keys, codec);

    const idle = await lags(sessions, replica);
    process.stdout.write(`no other writes:          ${summary(idle)}\n`);

    let writing = true;
    let background = 0;
    const writers = Array.from({ length: WRITERS }, async () => {
      while (writing) {
        await load.create(TENANT, [newSession()]);
        background++;
      }
    });
    const started = Date.now();
    const loaded = await lags(sessions, replica);
    writing = false;
    await Promise.all(writers);
    const rate = Math.round(background / ((Date.now() - started) / 1000));
    process.stdout.write(`${WRITERS} writers (${rate} creates/s): ${summary(loaded)}\n`);
  } finally {
    replica.disconnect();
    client.disconnect();
    loadClient.disconnect();
    await replicaServer.dispose();
    await primary.dispose();
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});
