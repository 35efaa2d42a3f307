/**
 * npm run bench:profile — a CPU profile of the built API (dist/, `npm run build` first) under load,
 * in the production configuration `npm run bench` uses. Writes the `.cpuprofile` (open it in
 * Chrome DevTools) and prints self time grouped by package, busiest first.
 *
 * Env: PROFILE_SCENARIO (`get`, `post`; default get), PROFILE_SECONDS (10), PROFILE_DIR
 * (bench/results/profiles), BENCH_API_MAIN (another build), BENCH_CONNECTIONS (50).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

const ROOT = join(__dirname, '..');
const API_MAIN = process.env.BENCH_API_MAIN ?? join(ROOT, 'dist/apps/api/apps/api/src/main.js');
const SCENARIO = process.env.PROFILE_SCENARIO ?? 'get';
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DIR = process.env.PROFILE_DIR ?? join(__dirname, 'results', 'profiles');

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time by where the code lives: a package, node's own modules, the app, GC, idle. */
function groupOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (url === '') return `(${functionName.replace(/[()]/g, '')})`;
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url;
  const dist = url.indexOf('/dist/apps/api/');
  return dist >= 0 ? `app: ${url.slice(dist + '/dist/apps/api/'.length)}` : url;
}

/** `skipUs`: the start-up (module loading, Nest's wiring) before the load began, left out. */
export function summarize(profile: CpuProfile, skipUs = 0, top = 40): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  let at = 0;
  profile.samples.forEach((id, index) => {
    const node = byId.get(id);
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (!node || at < skipUs) return;
    const group = groupOf(node);
    if (group === '(idle)') return;
    // Samples, not their time deltas: on a shared machine a descheduled process hands one sample
    // the whole pause.
    busy += 1;
    totals.set(group, (totals.get(group) ?? 0) + 1);
    const name = `${node.callFrame.functionName || '(anonymous)'} ${group}`;
    functions.set(name, (functions.get(name) ?? 0) + 1);
  });
  const table = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, count]) => `${((100 * count) / busy).toFixed(1).padStart(5)} %  ${name}`)
      .join('\n');
  return `busy samples ${busy}\n-- by package --\n${table(totals, top)}\n-- by function --\n${table(functions, top)}\n`;
}

async function main(): Promise<void> {
  const { redis, admin } = await startBenchRedis();
  const id = await seedBenchSession(admin);
  const dir = mkdtempSync(join(tmpdir(), 'profile-'));
  const limits = writeUnlimitedRateLimits(dir);
  mkdirSync(DIR, { recursive: true });
  const port = await freePort();
  const api: ChildProcess = spawn(
    process.execPath,
    [
      ...(process.env.PROFILE_NODE_ARGS?.split(' ') ?? []),
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
      API_MAIN,
    ],
    {
      env: {
        ...process.env,
        ...productionApiEnv(port, redis.url, limits),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const base = `http://127.0.0.1:${port}`;
  const spawned = performance.now();
  for (;;) {
    try {
      if ((await fetch(`${base}/api/v1/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const headers: Record<string, string> = {
    authorization: benchAuthorization(),
  };
  const target =
    SCENARIO === 'post'
      ? {
          url: `${base}/api/v1/sessions`,
          method: 'POST' as const,
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify(BENCH_SESSION_BODY),
        }
      : { url: `${base}/api/v1/sessions/${id}`, method: 'GET' as const, headers };
  const loadStartedUs = (performance.now() - spawned) * 1000;
  const result = await autocannon({ ...target, duration: SECONDS, connections: CONNECTIONS });
  process.stdout.write(
    `${SCENARIO}: ${result.requests.average} req/s, non-2xx ${result.non2xx}, errors ${result.errors}\n`,
  );
  await new Promise((resolve) => {
    api.once('exit', resolve);
    api.kill('SIGTERM');
  });
  admin.disconnect();
  await redis.dispose();
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error('no profile written');
  const out = join(DIR, `${SCENARIO}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
  const text = readFileSync(join(dir, file), 'utf8');
  writeFileSync(out, text);
  process.stdout.write(`${out}\n${summarize(JSON.parse(text) as CpuProfile, loadStartedUs)}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  });
}
