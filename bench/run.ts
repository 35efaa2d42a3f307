/**
 * npm run bench — list cost must not grow with the number of sessions stored.
 *
 * Seeds a private redis-server with N sessions per size (default 1,000 and 100,000; override with
 * BENCH_SIZES=1000,1000000), then times repository calls against each size in the same run:
 * first page, a deep offset page, a cursor page, a filtered page, and a read by id. Reports medians
 * and the ratio large/small. Timings are wall-clock on a shared machine: read ratios, not absolutes.
 */
import { randomUUID } from 'node:crypto';
import { createRedisClient } from '@app/redis/connection/redis-client.factory';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import { JsonPayloadCodec } from '@app/redis/payload-codec';
import { RedisSessionRepository } from '@app/redis/sessions/redis-session.repository';
import type { NewSession, SessionListQuery } from '@app/redis/sessions/session.repository';
import { RedisServer } from '../test/support/redis-server';

const SIZES = (process.env.BENCH_SIZES ?? '1000,100000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20; i++) await fn(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return median(samples);
}

async function main(): Promise<void> {
  const server = await RedisServer.start();
  const client = createRedisClient({
    url: server.url,
    commandTimeoutMs: 10_000,
    connectTimeoutMs: 2000,
  });
  const repo = new RedisSessionRepository(
    client,
    new RedisKeyBuilder('bench'),
    new JsonPayloadCodec(),
  );
  await new Promise((resolve) => client.once('ready', resolve));
  const results: Record<string, Record<number, number>> = {};
  try {
    for (const size of SIZES) {
      const tenant = `size-${size}`;
      const seeded = Date.now();
      let someId = '';
      for (let done = 0; done < size; done += 100) {
        const batch: NewSession[] = Array.from({ length: Math.min(100, size - done) }, (_, i) => ({
          id: randomUUID(),
          config: { agents: ['planner', 'researcher'], n: done + i },
          metadata: { source: 'bench' },
          status: (done + i) % 10 === 0 ? 'running' : 'done',
          createdBy: `user-${(done + i) % 50}`,
          ttlSeconds: 3600,
        }));
        someId = batch[0].id;
        await repo.create(tenant, batch);
      }
      process.stdout.write(
        `seeded ${size} sessions in ${((Date.now() - seeded) / 1000).toFixed(1)} s\n`,
      );

      const base: SessionListQuery = { order: 'desc', limit: 20, offset: 0 };
      const first = await repo.list(tenant, base);
      const last = first.sessions[first.sessions.length - 1];
      const cases: Record<string, () => Promise<unknown>> = {
        'first page (limit 20)': () => repo.list(tenant, base),
        'offset = 90% of N': () => repo.list(tenant, { ...base, offset: Math.floor(size * 0.9) }),
        'cursor page': () =>
          repo.list(tenant, { ...base, after: { createdAt: last.createdAt, id: last.id } }),
        'creator + status filter': () =>
          repo.list(tenant, { ...base, createdBy: 'user-10', status: 'running' }),
        'read by id': () => repo.get(tenant, someId),
      };
      for (const [name, fn] of Object.entries(cases)) {
        (results[name] ??= {})[size] = await time(fn);
      }
    }
  } finally {
    client.disconnect();
    await server.dispose();
  }

  const [small, large] = [SIZES[0], SIZES[SIZES.length - 1]];
  process.stdout.write(`\nmedian latency in ms over ${ROUNDS} calls (one run, same machine)\n`);
  process.stdout.write(
    `${'case'.padEnd(26)}${SIZES.map((s) => `N=${s}`.padStart(14)).join('')}   ratio N=${large}/N=${small}\n`,
  );
  for (const [name, bySize] of Object.entries(results)) {
    const cells = SIZES.map((s) => bySize[s].toFixed(3).padStart(14)).join('');
    process.stdout.write(
      `${name.padEnd(26)}${cells}   ${(bySize[large] / bySize[small]).toFixed(2)}\n`,
    );
  }
}

void main();
