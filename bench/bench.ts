/**
 * npm run bench — the whole production pipeline against a bare Fastify + ioredis server, one table.
 *
 * One private redis-server; the BUILT API (dist/, `npm run build` first) in its production
 * configuration (JWT, RBAC, rate limiting on Redis with limits raised so nothing is refused,
 * validation, audit, metrics, logging at info to /dev/null); bench/servers/bare.ts making the same
 * libs/redis repository call per scenario with nothing around it. The load generator
 * (bench/load.ts, autocannon) runs in its own process. Per scenario: a warm-up of each server, then
 * BENCH_ROUNDS rounds alternating bare and API; medians. Afterwards BENCH_PROBE sequential
 * requests per server count Redis round trips per request (read events on the redis-server,
 * `INFO stats` total_reads_processed). API RSS is the peak of /proc/<pid>/status while loaded.
 * CPU µs per request (each server's utime + stime over the requests it served) is reported beside
 * req/s: on a shared machine it moves far less than req/s does, so its ratio is the steadier one.
 *
 * "GET session, L1 on" is served by a second instance of the same build with SESSION_L1_CACHE=true
 * (started only when that scenario runs), so the L1's effect is read off two rows of one run.
 * redis-server's own CPU per API request (`INFO cpu` around each API round) is printed per scenario
 * and kept in the JSON: an L1 hit saves Redis work more than API work.
 *
 * Env: BENCH_SECONDS (5), BENCH_ROUNDS (3), BENCH_CONNECTIONS (50), BENCH_LIST_MAX (1000000: the
 * large list size), BENCH_ONLY (comma-separated parts of scenario names), BENCH_PROBE (200),
 * BENCH_API_MAIN (another build of the API, e.g. a before/after comparison).
 * Writes bench/results/latest.json. Timings on a shared machine are noisy: read the ratios.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createRedisClient, type RedisClient } from '@app/redis/connection/redis-client.factory';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import { JsonPayloadCodec } from '@app/redis/payload-codec';
import { RedisSessionRepository } from '@app/redis/sessions/redis-session.repository';
import { RedisMemoryRepository } from '@app/redis/memory/redis-memory.repository';
import { RedisCacheRepository } from '@app/redis/cache/redis-cache.repository';
import { freePort, RedisServer } from '../test/support/redis-server';
import { tokenFor } from '../test/support/test-app';
import { BENCH_PREFIX, productionApiEnv, writeUnlimitedRateLimits } from './support/production-api';
import type { LoadRequest, LoadResult } from './load';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const LIST_MAX = Number(process.env.BENCH_LIST_MAX ?? 1_000_000);
const LIST_SMALL = Math.min(10_000, LIST_MAX);
const PROBE = Number(process.env.BENCH_PROBE ?? 200);
const ONLY = process.env.BENCH_ONLY?.split(',');
const PREFIX = BENCH_PREFIX;
const ROOT = join(__dirname, '..');
const API_MAIN = process.env.BENCH_API_MAIN ?? join(ROOT, 'dist/apps/api/apps/api/src/main.js');

interface Target {
  method: LoadRequest['method'];
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

interface Scenario {
  name: string;
  api: Target;
  bare: Target;
  /** Served by a second API instance with SESSION_L1_CACHE=true (the same build and settings). */
  l1?: boolean;
}

interface Row {
  scenario: string;
  api: {
    rps: number;
    p50: number;
    p99: number;
    cpu_us: number;
    rss_mb: number;
    round_trips: number;
    bytes_per_response: number;
    /** Non-2xx answers over all rounds (503s of a stalled machine; the run stops above 1 %). */
    non2xx: number;
    /** redis-server CPU µs per API request, and HGETALLs it ran per API request (medians). */
    redis_cpu_us: number;
    redis_hgetall_per_request: number;
  };
  bare: { rps: number; p50: number; p99: number; cpu_us: number; round_trips: number };
  /** API req/s over bare req/s, medians of the same run. */
  ratio: number;
  /** Bare CPU time per request over the API's: the ratio with the machine's noise taken out. */
  cpu_ratio: number;
  rounds: { api: number[]; bare: number[] };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

function forkTs(script: string, args: string[]): ChildProcess {
  return fork(join(__dirname, script), args, {
    execArgv: ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
}

function ready(child: ChildProcess, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
  });
}

class LoadGenerator {
  private readonly child = forkTs('load.ts', []);

  private answer(): Promise<LoadResult> {
    return new Promise((resolve) => this.child.once('message', (m) => resolve(m as LoadResult)));
  }

  async load(request: LoadRequest): Promise<LoadResult> {
    const answer = this.answer();
    this.child.send(request);
    const result = await answer;
    // A few 503s (Redis command timeout while the shared machine stalls) are reported, not fatal.
    if (result.errors > 0 || result.non2xx > result.requests / 100) {
      throw new Error(
        `${request.method} ${request.url}: ${result.non2xx} non-2xx, ${result.errors} errors, statuses ${JSON.stringify(result.statuses)}`,
      );
    }
    return result;
  }

  stop(): void {
    this.child.kill();
  }
}

/** Peak resident set of a process while `during` runs (sampled every 100 ms). */
async function peakRss<T>(pid: number, during: Promise<T>): Promise<[T, number]> {
  let peak = 0;
  const sample = () => {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (match) peak = Math.max(peak, Number(match[1]) / 1024);
  };
  const timer = setInterval(sample, 100);
  try {
    const result = await during;
    sample();
    return [result, peak];
  } finally {
    clearInterval(timer);
  }
}

/** CPU time (user + system) a process has used, in µs, from /proc/<pid>/stat. */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after "pid (comm) ".
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

/**
 * Runs a load and reports the server's CPU time per request: on a shared machine req/s moves with
 * whatever else runs, CPU per request much less so.
 */
async function loadWithCpu(
  generator: LoadGenerator,
  pid: number,
  request: LoadRequest,
): Promise<LoadResult & { cpuPerRequest: number }> {
  const before = cpuMicros(pid);
  const result = await generator.load(request);
  return { ...result, cpuPerRequest: (cpuMicros(pid) - before) / Math.max(1, result.requests) };
}

/**
 * CPU time redis-server has used (user + system, µs) and the HGETALLs it ran: an L1 hit saves
 * Redis work more than API work, and runs no HGETALL (which shows the L1 really answered).
 */
async function redisCounters(admin: RedisClient): Promise<{ cpuUs: number; hgetalls: number }> {
  const info = await admin.info('cpu', 'commandstats');
  const value = (pattern: string) => Number(new RegExp(pattern).exec(info)?.[1] ?? 0);
  return {
    cpuUs: (value('used_cpu_user:([\\d.]+)') + value('used_cpu_sys:([\\d.]+)')) * 1e6,
    hgetalls: value('cmdstat_hgetall:calls=(\\d+)'),
  };
}

async function readsProcessed(admin: RedisClient): Promise<number> {
  const info = await admin.info('stats');
  return Number(/total_reads_processed:(\d+)/.exec(info)?.[1]);
}

/**
 * Redis round trips per request: read events on the redis-server across PROBE sequential
 * requests (one at a time, so no two requests' writes can share a read), minus the INFO itself.
 * Background work (sweepers, metric flushes) adds a little; the least of two probes is reported.
 */
async function roundTrips(admin: RedisClient, base: string, target: Target): Promise<number> {
  const probes: number[] = [];
  for (let attempt = 0; attempt < 2; attempt++) {
    const before = await readsProcessed(admin);
    for (let i = 0; i < PROBE; i++) {
      const response = await fetch(base + target.path, {
        method: target.method,
        headers: target.headers,
        body: target.body,
      });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`${target.method} ${target.path}: ${response.status}`);
    }
    probes.push((await readsProcessed(admin)) - before - 1);
  }
  return Math.min(...probes) / PROBE;
}

/** Starts the built API and measures spawn-to-ready (GET /api/v1/health/ready answers 200). */
async function startApi(env: Record<string, string>): Promise<{ child: ChildProcess; ms: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [API_MAIN], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${env.PORT}/api/v1/health/ready`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`API exited with ${child.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.ok) return { child, ms: performance.now() - started };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * Writes sessions in the app's key layout (SessionKeyspace; the fields CREATE_SESSIONS writes:
 * record, its expiry, the four indexes, membership and expiry entries), generated inside Redis by
 * one script per 20,000 sessions: a million in well under a minute on a quiet machine, where
 * sending them from Node costs several times that. Bench-only: the keys are derived in the script
 * (standalone Redis, one tenant's hash tag), which libs/redis scripts never do.
 */
const SEED_LUA = `
local rec, all, by_status, by_creator, infix, members, expiry = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local first, last, count, now, ttl = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local config, metadata = ARGV[13], ARGV[14]
for i = first, last - 1 do
  local id = string.format('%08x-%04x-4%03x-8%03x-%012x', math.random(0, 2147483647), i % 65536, math.random(0, 4095), math.random(0, 4095), i)
  local status = (i % 10 == 0) and 'running' or 'done'
  local creator = 'user-' .. (i % 50)
  local created = now - (count - i)
  local expires = created + ttl
  local key = rec .. id
  redis.call('HSET', key, 'config', config, 'metadata', metadata, 'status', status,
    'created_by', creator, 'created_at', created, 'updated_at', created,
    'status_updated_at', created, 'status_updated_by', creator, 'expires_at', expires,
    'ttl_ms', ttl, 'version', 1, 'config_bytes', #config, 'metadata_bytes', #metadata)
  redis.call('PEXPIREAT', key, expires)
  redis.call('ZADD', all, created, id)
  redis.call('ZADD', by_status .. status, created, id)
  redis.call('ZADD', by_creator .. creator, created, id)
  redis.call('ZADD', by_creator .. creator .. infix .. status, created, id)
  redis.call('HSET', members, id, creator .. '\\n' .. status)
  redis.call('ZADD', expiry, expires, id)
end
return last - first
`;

async function seedSessions(
  redis: RedisClient,
  keys: RedisKeyBuilder,
  tenant: string,
  count: number,
) {
  const started = performance.now();
  const space = keys.sessions(tenant);
  const layout = space.scriptLayout().slice(0, 7);
  const config = JSON.stringify({ agents: ['planner', 'researcher'], step: 3 });
  const metadata = JSON.stringify({ source: 'bench' });
  const now = Date.now();
  const BATCH = 20_000;
  for (let first = 0; first < count; first += BATCH) {
    const last = Math.min(first + BATCH, count);
    await redis.eval(SEED_LUA, 0, ...layout, first, last, count, now, 86_400_000, config, metadata);
  }
  await redis.sadd(keys.tenantRegistry(), tenant);
  process.stdout.write(
    `seeded ${count} sessions (tenant ${tenant}) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

function scenarios(ids: { session: string; batch: string[] }): Scenario[] {
  const json = { 'content-type': 'application/json' };
  const auth = (tenant = 'default') => ({
    authorization: `Bearer ${tokenFor({ sub: 'bench', roles: ['orchestrator'], tenant }, { expiresIn: '4h' })}`,
  });
  const createBody = JSON.stringify({
    session_config: { agents: ['planner', 'researcher'] },
    metadata: { a: 1 },
    created_by: 'u',
  });
  const list = (tenant: string): Scenario => ({
    name: `list (status, created_by, limit=50), ${tenant.slice(5)}`,
    api: {
      method: 'GET',
      path: '/api/v1/sessions?status=running&created_by=user-10&limit=50',
      headers: auth(tenant),
    },
    bare: { method: 'GET', path: `/list/${tenant}?status=running&created_by=user-10&limit=50` },
  });
  const hundred = (encoding?: string): Scenario => {
    const path = `?created_by=user-10&limit=100`;
    const accept: Record<string, string> = encoding ? { 'accept-encoding': encoding } : {};
    return {
      name: `list of 100, ${encoding ?? 'identity'}`,
      api: {
        method: 'GET',
        path: `/api/v1/sessions${path}`,
        headers: { ...auth(`list-${LIST_SMALL}`), ...accept },
      },
      bare: { method: 'GET', path: `/list/list-${LIST_SMALL}${path}`, headers: accept },
    };
  };
  const patchBody = JSON.stringify({ memory_data: { step: 4, note: 'x' } });
  const cacheBody = JSON.stringify({ data: { answer: 42, text: 'cached' }, ttl_seconds: 3600 });
  const batchBody = JSON.stringify({ session_ids: ids.batch });
  const all: Scenario[] = [
    {
      name: 'GET session',
      api: { method: 'GET', path: `/api/v1/sessions/${ids.session}`, headers: auth() },
      bare: { method: 'GET', path: `/sessions/${ids.session}` },
    },
    {
      name: 'GET session, L1 on',
      api: { method: 'GET', path: `/api/v1/sessions/${ids.session}`, headers: auth() },
      bare: { method: 'GET', path: `/sessions/${ids.session}` },
      l1: true,
    },
    {
      name: 'POST session',
      api: {
        method: 'POST',
        path: '/api/v1/sessions',
        headers: { ...auth(), ...json },
        body: createBody,
      },
      bare: { method: 'POST', path: '/sessions', headers: json, body: createBody },
    },
    list(`list-${LIST_SMALL}`),
    list(`list-${LIST_MAX}`),
    hundred(),
    hundred('gzip'),
    hundred('br'),
    {
      name: 'memory GET',
      api: {
        method: 'GET',
        path: `/api/v1/agents/planner/memory/${ids.session}`,
        headers: auth(),
      },
      bare: { method: 'GET', path: `/memory/planner/${ids.session}` },
    },
    {
      name: 'memory merge-PATCH',
      api: {
        method: 'PATCH',
        path: `/api/v1/agents/planner/memory/${ids.session}`,
        headers: { ...auth(), 'content-type': 'application/merge-patch+json' },
        body: patchBody,
      },
      bare: {
        method: 'PATCH',
        path: `/memory/planner/${ids.session}`,
        headers: { 'content-type': 'application/merge-patch+json' },
        body: patchBody,
      },
    },
    {
      name: 'cache GET (hit)',
      api: { method: 'GET', path: '/api/v1/cache/bench:hit', headers: auth() },
      bare: { method: 'GET', path: '/cache/bench:hit' },
    },
    {
      name: 'cache POST',
      api: {
        method: 'POST',
        path: '/api/v1/cache/bench:set',
        headers: { ...auth(), ...json },
        body: cacheBody,
      },
      bare: { method: 'POST', path: '/cache/bench:set', headers: json, body: cacheBody },
    },
    {
      name: 'batch-get 100 sessions',
      api: {
        method: 'POST',
        path: '/api/v1/sessions/batch-get',
        headers: { ...auth(), ...json },
        body: batchBody,
      },
      bare: { method: 'POST', path: '/sessions/batch-get', headers: json, body: batchBody },
    },
  ];
  return all.filter((s) => !ONLY || ONLY.some((only) => s.name.includes(only)));
}

async function main(): Promise<void> {
  const redis = await RedisServer.start();
  const admin = createRedisClient({
    url: redis.url,
    commandTimeoutMs: 120_000,
    connectTimeoutMs: 2000,
  });
  await new Promise((resolve) => admin.once('ready', resolve));
  const keys = new RedisKeyBuilder(PREFIX);
  const codec = new JsonPayloadCodec();
  const sessions = new RedisSessionRepository(admin, keys, codec);
  const memory = new RedisMemoryRepository(admin, keys, codec);
  const cache = new RedisCacheRepository(admin, keys, codec);
  const load = new LoadGenerator();
  const children: ChildProcess[] = [];
  // Interrupted: no redis-server or API is left behind.
  const interrupted = () => {
    load.stop();
    for (const child of children) child.kill('SIGKILL');
    void redis.dispose().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  try {
    const needsLists = scenarios({ session: '', batch: [] }).some((s) => s.name.startsWith('list'));
    if (needsLists) {
      await seedSessions(admin, keys, `list-${LIST_SMALL}`, LIST_SMALL);
      if (LIST_MAX !== LIST_SMALL) await seedSessions(admin, keys, `list-${LIST_MAX}`, LIST_MAX);
    }
    const batch = Array.from({ length: 100 }, () => randomUUID());
    await sessions.create(
      'default',
      batch.map((id) => ({
        id,
        config: { agents: ['planner', 'researcher'], step: 3 },
        metadata: { a: 1 },
        status: 'running',
        createdBy: 'u',
        ttlSeconds: 86_400,
      })),
    );
    const session = batch[0];
    await memory.create(
      'default',
      {
        memoryId: randomUUID(),
        agentId: 'planner',
        sessionId: session,
        memoryType: 'working',
        data: { plan: ['a', 'b'], step: 1 },
        createdBy: 'bench',
        ttlSeconds: 86_400,
      },
      1_048_576,
    );
    await cache.set('default', {
      key: 'bench:hit',
      data: { answer: 42, text: 'cached' },
      ttlSeconds: 86_400,
      tags: [],
      onlyIfAbsent: false,
    });

    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    const limits = writeUnlimitedRateLimits(dir);
    const apiPort = await freePort();
    const apiEnv = productionApiEnv(apiPort, redis.url, limits);
    // Cold start: spawn to ready, three times; the last instance stays up for the load.
    const starts: number[] = [];
    let api!: ChildProcess;
    for (let i = 0; i < 3; i++) {
      const started = await startApi(apiEnv);
      starts.push(started.ms);
      api = started.child;
      if (i < 2) await stopProcess(api);
    }
    children.push(api);
    const apiBase = `http://127.0.0.1:${apiPort}`;
    // A second instance with the session L1 on, started only when a scenario asks for it.
    let apiL1 = { child: api, base: apiBase };
    if (scenarios({ session, batch }).some((s) => s.l1)) {
      const l1Port = await freePort();
      const started = await startApi({
        ...apiEnv,
        PORT: String(l1Port),
        SESSION_L1_CACHE: 'true',
      });
      children.push(started.child);
      apiL1 = { child: started.child, base: `http://127.0.0.1:${l1Port}` };
    }
    const barePort = await freePort();
    const bare = forkTs('servers/bare.ts', [String(barePort), redis.url, PREFIX]);
    children.push(bare);
    await ready(bare, 'bare server');

    const bareBase = `http://127.0.0.1:${barePort}`;
    const request = (base: string, target: Target, seconds: number): LoadRequest => ({
      url: base + target.path,
      method: target.method,
      headers: target.headers ?? {},
      body: target.body,
      seconds,
      connections: CONNECTIONS,
    });

    const rows: Row[] = [];
    for (const scenario of scenarios({ session, batch })) {
      process.stdout.write(`${scenario.name} ...`);
      const served = scenario.l1 ? apiL1 : { child: api, base: apiBase };
      await load.load(request(bareBase, scenario.bare, 2));
      await load.load(request(served.base, scenario.api, 2));
      type Run = LoadResult & { cpuPerRequest: number };
      const apiRuns: Run[] = [];
      const bareRuns: Run[] = [];
      const redisCpu: number[] = [];
      const hgetalls: number[] = [];
      let rss = 0;
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate which server goes first, so a drift of the machine hits both alike.
        const order = round % 2 === 0 ? ['bare', 'api'] : ['api', 'bare'];
        for (const which of order) {
          if (which === 'bare') {
            bareRuns.push(
              await loadWithCpu(load, bare.pid!, request(bareBase, scenario.bare, SECONDS)),
            );
          } else {
            const redisBefore = await redisCounters(admin);
            const [result, peak] = await peakRss(
              served.child.pid!,
              loadWithCpu(load, served.child.pid!, request(served.base, scenario.api, SECONDS)),
            );
            apiRuns.push(result);
            const redisAfter = await redisCounters(admin);
            const count = Math.max(1, result.requests);
            redisCpu.push((redisAfter.cpuUs - redisBefore.cpuUs) / count);
            hgetalls.push((redisAfter.hgetalls - redisBefore.hgetalls) / count);
            rss = Math.max(rss, peak);
          }
        }
      }
      const pick = (runs: Run[]) => ({
        rps: median(runs.map((r) => r.rps)),
        cpu_us: Math.round(median(runs.map((r) => r.cpuPerRequest))),
        p50: median(runs.map((r) => r.p50)),
        p99: median(runs.map((r) => r.p99)),
      });
      const apiFigures = pick(apiRuns);
      const bareFigures = pick(bareRuns);
      const row: Row = {
        scenario: scenario.name,
        api: {
          ...apiFigures,
          rss_mb: Math.round(rss),
          bytes_per_response: Math.round(median(apiRuns.map((r) => r.bytesPerResponse))),
          non2xx: apiRuns.reduce((sum, r) => sum + r.non2xx, 0),
          redis_cpu_us: Math.round(median(redisCpu)),
          redis_hgetall_per_request: Number(median(hgetalls).toFixed(3)),
          round_trips: await roundTrips(admin, served.base, scenario.api),
        },
        bare: { ...bareFigures, round_trips: await roundTrips(admin, bareBase, scenario.bare) },
        ratio: apiFigures.rps / bareFigures.rps,
        cpu_ratio: bareFigures.cpu_us / apiFigures.cpu_us,
        rounds: { api: apiRuns.map((r) => r.rps), bare: bareRuns.map((r) => r.rps) },
      };
      rows.push(row);
      process.stdout.write(
        ` ${row.api.rps.toFixed(0)} / ${row.bare.rps.toFixed(0)} req/s, redis-server per API request: ${row.api.redis_cpu_us} µs CPU, ${row.api.redis_hgetall_per_request} HGETALL\n`,
      );
    }

    const coldStartMs = median(starts);
    printTable(rows, coldStartMs);
    const results = {
      date: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        cpu_model: cpus()[0]?.model,
        memory_gb: Math.round(totalmem() / 2 ** 30),
        node: process.version,
      },
      settings: {
        seconds: SECONDS,
        rounds: ROUNDS,
        connections: CONNECTIONS,
        list_sizes: [LIST_SMALL, LIST_MAX],
      },
      cold_start_ms: { median: Math.round(coldStartMs), runs: starts.map(Math.round) },
      rows,
    };
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(
      join(__dirname, 'results', 'latest.json'),
      `${JSON.stringify(results, null, 2)}\n`,
    );
  } finally {
    load.stop();
    for (const child of children) await stopProcess(child);
    admin.disconnect();
    await redis.dispose();
  }
}

function printTable(rows: Row[], coldStartMs: number): void {
  const out: string[] = [];
  out.push(
    `\nmedians of ${ROUNDS} rounds × ${SECONDS} s, ${CONNECTIONS} connections; bare = Fastify + ioredis + the same repository call`,
  );
  out.push(
    '| scenario | API req/s | p50 ms | p99 ms | API RSS MB | bare req/s | bare p99 ms | ratio | CPU µs/req API / bare | CPU ratio | Redis round trips API / bare | API bytes/resp |',
  );
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    out.push(
      `| ${row.scenario} | ${row.api.rps.toFixed(0)} | ${row.api.p50} | ${row.api.p99} | ${row.api.rss_mb} | ` +
        `${row.bare.rps.toFixed(0)} | ${row.bare.p99} | ${row.ratio.toFixed(2)} | ` +
        `${row.api.cpu_us} / ${row.bare.cpu_us} | ${row.cpu_ratio.toFixed(2)} | ` +
        `${row.api.round_trips.toFixed(2)} / ${row.bare.round_trips.toFixed(2)} | ${row.api.bytes_per_response} |`,
    );
  }
  out.push(`\ncold start to ready (built API, median of 3): ${coldStartMs.toFixed(0)} ms`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
