/**
 * npm run bench:ab -- <main.js A> <main.js B> — two builds of the API side by side, CPU per request.
 *
 * On a machine shared with other work, req/s and CPU per request of one run say little about the
 * next run. This starts both builds at once (production configuration, as `npm run bench` does)
 * against one redis-server and loads both at the same time, round after round, so whatever else
 * runs weighs on both alike; it prints the median CPU µs per request of each and B over A.
 * Env: AB_ROUNDS (6), AB_SECONDS (3), BENCH_CONNECTIONS (20), AB_SCENARIOS (get,post),
 * AB_NODE_OPTIONS_A / AB_NODE_OPTIONS_B (NODE_OPTIONS of one side, e.g. V8 heap settings).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freePort } from '../test/support/redis-server';
import {
  BENCH_SESSION_BODY,
  benchAuthorization,
  productionApiEnv,
  seedBenchSession,
  startBenchRedis,
  writeUnlimitedRateLimits,
} from './support/production-api';

const ROUNDS = Number(process.env.AB_ROUNDS ?? 6);
const SECONDS = Number(process.env.AB_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const SCENARIOS = (process.env.AB_SCENARIOS ?? 'get,post').split(',');

function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 1e4;
}

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : 0;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

async function startApi(main: string, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${main} exited with ${child.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${env.PORT}/api/v1/health/ready`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function main(): Promise<void> {
  const mains = process.argv.slice(2, 4);
  if (mains.length !== 2) throw new Error('usage: bench/ab.ts <main.js A> <main.js B>');
  const { redis, admin } = await startBenchRedis();
  const id = await seedBenchSession(admin);
  const limits = writeUnlimitedRateLimits(mkdtempSync(join(tmpdir(), 'ab-')));
  const ports = [await freePort(), await freePort()];
  const apis = await Promise.all(
    mains.map((main, i) =>
      startApi(main, {
        NODE_OPTIONS:
          (i === 0 ? process.env.AB_NODE_OPTIONS_A : process.env.AB_NODE_OPTIONS_B) ?? '',
        ...productionApiEnv(ports[i], redis.url, limits),
      }),
    ),
  );
  const authorization = benchAuthorization();
  const target = (scenario: string, port: number) =>
    scenario === 'post'
      ? {
          url: `http://127.0.0.1:${port}/api/v1/sessions`,
          method: 'POST' as const,
          headers: { authorization, 'content-type': 'application/json' },
          body: JSON.stringify(BENCH_SESSION_BODY),
        }
      : {
          url: `http://127.0.0.1:${port}/api/v1/sessions/${id}`,
          method: 'GET' as const,
          headers: { authorization },
        };
  try {
    for (const scenario of SCENARIOS) {
      const cpu: number[][] = [[], []];
      const rps: number[][] = [[], []];
      const rss = [0, 0];
      for (const i of [0, 1])
        await autocannon({ ...target(scenario, ports[i]), duration: 1, connections: CONNECTIONS });
      for (let round = 0; round < ROUNDS; round++) {
        const before = apis.map((api) => cpuMicros(api.pid!));
        const results = await Promise.all(
          [0, 1].map((i) =>
            autocannon({
              ...target(scenario, ports[i]),
              duration: SECONDS,
              connections: CONNECTIONS,
            }),
          ),
        );
        for (const i of [0, 1]) {
          const result = results[i];
          if (result.non2xx > 0 || result.errors > 0)
            throw new Error(
              `${scenario} ${mains[i]}: ${result.non2xx} non-2xx, ${result.errors} errors`,
            );
          cpu[i].push((cpuMicros(apis[i].pid!) - before[i]) / Math.max(1, result.requests.total));
          rps[i].push(result.requests.average);
          rss[i] = Math.max(rss[i], rssMb(apis[i].pid!));
        }
      }
      const [a, b] = cpu.map(median);
      process.stdout.write(
        `${scenario}: CPU µs/req A ${a.toFixed(0)} B ${b.toFixed(0)} (B/A ${(b / a).toFixed(2)}); ` +
          `req/s A ${median(rps[0]).toFixed(0)} B ${median(rps[1]).toFixed(0)}; RSS MB A ${rss[0]} B ${rss[1]}; ` +
          `rounds A ${cpu[0].map((v) => v.toFixed(0)).join(' ')} | B ${cpu[1].map((v) => v.toFixed(0)).join(' ')}\n`,
      );
    }
  } finally {
    for (const api of apis) api.kill('SIGTERM');
    admin.disconnect();
    await redis.dispose();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
