/**
 * npm run bench:slowlog — the longest single script Redis runs, measured by Redis itself (SLOWLOG).
 *
 * Seeds a private redis-server, then records every script slower than 0.1 ms while it:
 *   A. purges BENCH_EXPIRED_SESSIONS expired sessions (default 20,000; the issue's figure: 1000000)
 *      the way the sweeper does (bounded batches), after one list request met the backlog;
 *   B. purges 500 expired sessions holding 20 agents' memory each (the cascade);
 *   C. lists and queries the memory of one agent holding BENCH_AGENT_RECORDS records (default
 *      10,000; the issue's figure: 100000), as an orchestrator and as that agent;
 *   D. purges those records once expired (the memory sweeper's loop);
 *   E. purges BENCH_CACHE_ENTRIES expired cache entries (default 20,000) with BENCH_CACHE_TAGS
 *      tags each (default 3), their HASHes still there (the cache sweeper's loop).
 * BENCH_REDIS_REALTIME=1 runs that redis-server under SCHED_FIFO (chrt; needs root or
 * CAP_SYS_NICE), so no other process of this machine preempts it: what a dedicated core gives.
 * SLOWLOG counts wall time, so without it a script preempted mid-run logs another program's time.
 * Prints the longest entry per phase (µs, with its script), and fails when a purge loop stopped
 * before the backlog was gone. Seeding is not measured.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import Redis from 'ioredis';
import { createRedisClient } from '@app/redis/connection/redis-client.factory';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import { VIEWER_SCOPE_MAX } from '@app/redis/memory/memory.scripts';
import { RedisMemoryRepository } from '@app/redis/memory/redis-memory.repository';
import { JsonPayloadCodec } from '@app/redis/payload-codec';
import type { PurgeResult } from '@app/redis/purge-result';
import { RedisSessionRepository } from '@app/redis/sessions/redis-session.repository';
import { StoreUnavailableError } from '@app/redis/store-errors';
import { BATCH_SIZE } from '../apps/api/src/common/sweeping/periodic-sweeper';
import { LuaScript } from '@app/redis/lua-script';
import * as memoryScripts from '@app/redis/memory/memory.scripts';
import * as cacheScripts from '@app/redis/cache/cache.scripts';
import { RedisCacheRepository } from '@app/redis/cache/redis-cache.repository';
import * as sessionScripts from '@app/redis/sessions/session.scripts';
import { RedisServer } from '../test/support/redis-server';

const EXPIRED = Number(process.env.BENCH_EXPIRED_SESSIONS ?? 20_000);
const AGENT_RECORDS = Number(process.env.BENCH_AGENT_RECORDS ?? 10_000);
const CACHE_ENTRIES = Number(process.env.BENCH_CACHE_ENTRIES ?? 20_000);
const CACHE_TAGS = Number(process.env.BENCH_CACHE_TAGS ?? 3);
const TENANT = 'bench';
const keys = new RedisKeyBuilder('slow');
const codec = new JsonPayloadCodec();

/** Runs `task` over `items` with `width` in flight. */
async function inParallel<T>(items: T[], width: number, task: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await task(items[next++]);
    }),
  );
}

/** Makes sessions look expired, as Redis would have made them: record gone, expiry entry due. */
async function expire(raw: Redis, ids: string[]): Promise<void> {
  const space = keys.sessions(TENANT);
  for (let i = 0; i < ids.length; i += 5000) {
    const pipeline = raw.pipeline();
    for (const id of ids.slice(i, i + 5000)) {
      pipeline.zadd(space.expiry, 1, id);
      pipeline.del(space.record(id));
    }
    await pipeline.exec();
  }
}

async function createSessions(sessions: RedisSessionRepository, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += 100) batches.push(ids.slice(i, i + 100));
  await inParallel(batches, 8, (batch) =>
    sessions.create(
      TENANT,
      batch.map((id) => ({
        id,
        config: { bench: true },
        metadata: {},
        status: 'running',
        createdBy: 'bench',
        ttlSeconds: 3600,
      })),
    ),
  );
  return ids;
}

async function createMemory(
  memory: RedisMemoryRepository,
  pairs: { agentId: string; sessionId: string }[],
): Promise<void> {
  await inParallel(pairs, 64, ({ agentId, sessionId }) =>
    memory.create(
      TENANT,
      {
        memoryId: randomUUID(),
        agentId,
        sessionId,
        memoryType: 'shared',
        data: { note: 'bench' },
        createdBy: 'bench',
        ttlSeconds: 3600,
      },
      65536,
    ),
  );
}

/** Every script this project runs, by SHA (audited scripts also run without their prelude). */
function scriptNames(): Map<string, string> {
  const names = new Map<string, string>();
  for (const module of [sessionScripts, memoryScripts, cacheScripts]) {
    for (const value of Object.values(module)) {
      if (!(value instanceof LuaScript)) continue;
      names.set(value.sha, value.name);
      const plain = (value as { plain?: unknown }).plain;
      if (plain instanceof LuaScript) names.set(plain.sha, plain.name);
    }
  }
  return names;
}

/** Script durations since the last reset (SLOWLOG logs every command: threshold 0). */
async function scriptTimes(raw: Redis, names: Map<string, string>): Promise<[number, string][]> {
  const entries = (await raw.slowlog('GET', -1)) as [number, number, number, string[]][];
  await raw.slowlog('RESET');
  return entries
    .filter(([, , , args]) => /^eval/i.test(args[0]))
    .map(([, , micros, args]) => [micros, names.get(args[1]) ?? args[0].toLowerCase()]);
}

function summary(times: [number, string][]): string {
  if (times.length === 0) return 'no scripts';
  const sorted = [...times].sort((a, b) => a[0] - b[0]);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))][0];
  const [max, name] = sorted[sorted.length - 1];
  const ms = (micros: number) => (micros / 1000).toFixed(2);
  const over10 = times.filter(([micros]) => micros > 10_000).length;
  return `${times.length} scripts over 0.1 ms: median ${ms(at(0.5))} ms, p99 ${ms(at(0.99))} ms, longest ${ms(max)} ms (${name}), ${over10} over 10 ms`;
}

async function redisPid(raw: Redis): Promise<string | undefined> {
  return /process_id:(\d+)/.exec(await raw.info('server'))?.[1];
}

async function main(): Promise<void> {
  const server = await RedisServer.start();
  const raw = new Redis(server.port, '127.0.0.1');
  const client = createRedisClient({
    url: server.url,
    commandTimeoutMs: 60_000,
    connectTimeoutMs: 2000,
  });
  await new Promise((resolve) => client.once('ready', resolve));
  const sessions = new RedisSessionRepository(client, keys, codec);
  const memory = new RedisMemoryRepository(client, keys, codec);
  const cache = new RedisCacheRepository(client, keys, codec);
  const report: Record<string, string> = {};
  const names = scriptNames();
  if (process.env.BENCH_REDIS_REALTIME === '1') {
    execFileSync('chrt', ['--fifo', '--pid', '10', String(await redisPid(raw))]);
    process.stdout.write('redis-server runs under SCHED_FIFO (BENCH_REDIS_REALTIME=1)\n');
  }
  /**
   * Redis 7 logs the commands a script runs as well as the script, so a threshold of 0 filled the
   * log (max 1M entries, ~1,100 per purge script of the old code) and dropped the oldest scripts:
   * that is why the first 1M-session run reported only the last 1,109 purge scripts. Commands
   * inside scripts take microseconds, so a 0.1 ms threshold keeps the log to scripts, and the work
   * collects (reads and resets) the log as it goes; nothing is dropped.
   */
  const measure = async (
    phase: string,
    work: (collect: () => Promise<void>) => Promise<unknown>,
  ) => {
    const times: [number, string][] = [];
    const collect = async () => {
      times.push(...(await scriptTimes(raw, names)));
    };
    const calls = async () => {
      const stats = await raw.info('commandstats');
      return [...stats.matchAll(/^cmdstat_eval(?:sha)?(?:_ro)?:calls=(\d+)/gm)].reduce(
        (sum, match) => sum + Number(match[1]),
        0,
      );
    };
    const before = await calls();
    await raw.config('SET', 'slowlog-max-len', '100000');
    await raw.config('SET', 'slowlog-log-slower-than', '100');
    await raw.slowlog('RESET');
    await work(collect);
    await raw.config('SET', 'slowlog-log-slower-than', '-1');
    await collect();
    const ran = (await calls()) - before;
    const load = loadavg()[0].toFixed(1);
    report[phase] = `${summary(times)}; ${ran} script calls in all; load average ${load}`;
    process.stdout.write(`${phase}: ${report[phase]}\n`);
  };
  try {
    await raw.config('SET', 'slowlog-log-slower-than', '-1');

    process.stdout.write(`seeding ${EXPIRED} sessions...\n`);
    await expire(raw, await createSessions(sessions, EXPIRED));
    await measure(`A. list meeting ${EXPIRED} expired sessions`, async () => {
      try {
        await sessions.list(TENANT, { order: 'desc', offset: 0, limit: 20 });
        process.stdout.write('   list answered 200\n');
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        process.stdout.write(`   list answered 503 (${error.failure}): ${error.reason}\n`);
      }
    });
    await measure(`A. sweeper purges ${EXPIRED} expired sessions`, async (collect) => {
      let calls = 0;
      for (;;) {
        const step = await sessions.purgeExpired(TENANT, BATCH_SIZE);
        calls++;
        if (!step.more) break;
        if (calls % 100 === 0) await collect();
      }
      const left = await raw.zcard(keys.sessions(TENANT).expiry);
      process.stdout.write(`   ${calls} purge calls; ${left} expiry entries left\n`);
      // The figures only count if the loop really drained the backlog.
      if (left !== 0) throw new Error(`the purge loop stopped with ${left} expired sessions left`);
    });

    process.stdout.write('seeding 500 sessions x 20 agents...\n');
    const cascaded = await createSessions(sessions, 500);
    await createMemory(
      memory,
      cascaded.flatMap((sessionId) =>
        Array.from({ length: 20 }, (_, a) => ({ agentId: `agent-${a}`, sessionId })),
      ),
    );
    await expire(raw, cascaded);
    await measure('B. purge 500 expired sessions x 20 agents (cascade)', async () => {
      while ((await sessions.purgeExpired(TENANT, BATCH_SIZE)).more) {
        // bounded batches
      }
      const left = await raw.zcard(keys.sessions(TENANT).expiry);
      const memoryLeft = await raw.hlen(keys.memory(TENANT).members);
      if (left !== 0 || memoryLeft !== 0) {
        throw new Error(`the cascade left ${left} sessions and ${memoryLeft} memory records`);
      }
    });

    process.stdout.write(`seeding one agent with ${AGENT_RECORDS} records...\n`);
    const owned = await createSessions(sessions, AGENT_RECORDS);
    await createMemory(
      memory,
      owned.map((sessionId) => ({ agentId: 'hoarder', sessionId })),
    );
    // Another agent at the most sessions an agent-only query walks, sharing memory with 'hoarder'.
    await createMemory(
      memory,
      owned.slice(0, VIEWER_SCOPE_MAX).map((sessionId) => ({ agentId: 'peer', sessionId })),
    );
    await measure(`C. pages of an agent with ${AGENT_RECORDS} records`, async () => {
      await memory.listByAgent(TENANT, 'hoarder', { offset: 0, limit: 50 });
      await memory.query(TENANT, { agentIds: ['hoarder'], sessionIds: [], limit: 50 });
      const broad = await memory.query(TENANT, {
        agentIds: ['hoarder', 'peer'],
        sessionIds: [],
        limit: 50,
        viewer: 'hoarder',
      });
      process.stdout.write(
        `   agent-only query by 'hoarder': too broad = ${broad.scopeTooBroad}\n`,
      );
    });
    await measure(`C. agent-only query walking ${VIEWER_SCOPE_MAX} sessions`, () =>
      memory.query(TENANT, {
        agentIds: ['hoarder', 'peer'],
        sessionIds: [],
        limit: 50,
        viewer: 'peer',
      }),
    );

    // Due in the expiry index while records and HASHes are still there: the purge does all of its
    // work, as when the sweeper comes before Redis' own expiry.
    const dueAll = async (expiry: string) => {
      const members = await raw.zrange(expiry, '0', '-1');
      for (let i = 0; i < members.length; i += 5000) {
        await raw.zadd(expiry, ...members.slice(i, i + 5000).flatMap((m) => ['1', m]));
      }
      return members.length;
    };
    const drain = async (
      purge: (limit: number) => Promise<PurgeResult>,
      expiry: string,
      collect: () => Promise<void>,
    ) => {
      let calls = 0;
      for (;;) {
        const step = await purge(BATCH_SIZE);
        calls++;
        if (!step.more) break;
        if (calls % 100 === 0) await collect();
      }
      const left = await raw.zcard(expiry);
      process.stdout.write(`   ${calls} purge calls; ${left} expiry entries left\n`);
      if (left !== 0) throw new Error(`the purge loop stopped with ${left} expired entries left`);
    };
    const memoryExpiry = keys.memory(TENANT).expiry;
    const due = await dueAll(memoryExpiry);
    await measure(`D. sweeper purges ${due} expired memory records`, (collect) =>
      drain((limit) => memory.purgeExpired(TENANT, limit), memoryExpiry, collect),
    );

    process.stdout.write(
      `seeding ${CACHE_ENTRIES} cache entries with ${CACHE_TAGS} tags each...\n`,
    );
    await inParallel(
      Array.from({ length: CACHE_ENTRIES }, (_, i) => i),
      64,
      (i) =>
        cache.set(TENANT, {
          key: `bench:${i}`,
          data: { note: 'bench' },
          ttlSeconds: 3600,
          tags: Array.from({ length: CACHE_TAGS }, (_, t) => `t${t}-${i % (100 * (t + 1))}`),
          onlyIfAbsent: false,
        }),
    );
    const cacheExpiry = keys.cache(TENANT).expiry;
    await dueAll(cacheExpiry);
    await measure(
      `E. sweeper purges ${CACHE_ENTRIES} expired cache entries (${CACHE_TAGS} tags each)`,
      (collect) => drain((limit) => cache.purgeExpired(TENANT, limit), cacheExpiry, collect),
    );
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await cache.onApplicationShutdown();
    client.disconnect();
    raw.disconnect();
    await server.dispose();
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
