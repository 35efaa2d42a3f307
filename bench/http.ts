/**
 * npm run bench:http — throughput of the whole request pipeline against bare Fastify, same run.
 *
 * Three servers in child processes (so the load generator does not share their event loop), one
 * private redis-server. Reads GET /api/v1/sessions/{id} with a real JWT (auth, RBAC, a rate-limit
 * hit in Redis, validation, the repository's HGETALL, logging at "warn") against a bare Fastify
 * route doing the same HGETALL, and a bare static route. Medians of ROUNDS runs; read the ratios.
 * POST /api/v1/sessions is measured too: the write path (Lua create script, audit append).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freePort, RedisServer } from '../test/support/redis-server';
import { tokenFor, TEST_JWT_SECRET } from '../test/support/test-app';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

function start(script: string, args: string[], env: Record<string, string>): Promise<ChildProcess> {
  const child = fork(join(__dirname, 'servers', script), args, {
    execArgv: ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

async function requestsPerSecond(
  url: string,
  headers: Record<string, string> = {},
  write?: { method: 'POST'; body: string },
): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const result = await autocannon({
      url,
      headers,
      connections: CONNECTIONS,
      duration: SECONDS,
      ...write,
    });
    if (result.non2xx > 0 || result.errors > 0) {
      throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    }
    runs.push(result.requests.average);
  }
  return runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)];
}

async function main(): Promise<void> {
  const redis = await RedisServer.start();
  const children: ChildProcess[] = [];
  try {
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    const limits = join(dir, 'rate-limits.yaml');
    writeFileSync(
      limits,
      'window_seconds: 60\nclasses:\n  reads: 100000000\n  writes: 100000000\n  bulk: 1000\n  invalidation: 1000\n  audit_export: 10\n',
    );
    const apiPort = await freePort();
    children.push(
      await start('api.ts', [], {
        APP_ENV: 'production',
        PORT: String(apiPort),
        REDIS_URL: redis.url,
        JWT_SECRET: TEST_JWT_SECRET,
        LOG_LEVEL: 'warn',
        RATE_LIMITS_CONFIG_PATH: limits,
      }),
    );
    const token = tokenFor({ sub: 'bench', roles: ['orchestrator'] });
    const auth = { authorization: `Bearer ${token}` };
    const created = await fetch(`http://127.0.0.1:${apiPort}/api/v1/sessions`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        session_config: { agents: ['planner', 'researcher'] },
        metadata: { a: 1 },
        created_by: 'u',
      }),
    });
    const { session_id: id } = (await created.json()) as { session_id: string };
    const barePort = await freePort();
    children.push(
      await start(
        'bare-fastify.ts',
        [String(barePort), redis.url, `masa:{default}:session:${id}`],
        {},
      ),
    );

    const bareStatic = await requestsPerSecond(`http://127.0.0.1:${barePort}/static`);
    const bareRedis = await requestsPerSecond(`http://127.0.0.1:${barePort}/session/${id}`);
    const api = await requestsPerSecond(`http://127.0.0.1:${apiPort}/api/v1/sessions/${id}`, auth);
    const create = await requestsPerSecond(
      `http://127.0.0.1:${apiPort}/api/v1/sessions`,
      { ...auth, 'content-type': 'application/json' },
      {
        method: 'POST',
        body: JSON.stringify({ session_config: { agents: ['planner'] }, created_by: 'u' }),
      },
    );

    process.stdout.write(
      `requests/s, median of ${ROUNDS} × ${SECONDS} s, ${CONNECTIONS} connections\n`,
    );
    process.stdout.write(
      `bare Fastify, static JSON           ${bareStatic.toFixed(0).padStart(8)}\n`,
    );
    process.stdout.write(
      `bare Fastify, HGETALL of the record ${bareRedis.toFixed(0).padStart(8)}\n`,
    );
    process.stdout.write(`API GET /api/v1/sessions/{id}       ${api.toFixed(0).padStart(8)}\n`);
    process.stdout.write(`API POST /api/v1/sessions           ${create.toFixed(0).padStart(8)}\n`);
    process.stdout.write(
      `ratio API / bare Fastify + HGETALL  ${(api / bareRedis).toFixed(2).padStart(8)}\n`,
    );
    process.stdout.write(
      `ratio API / bare Fastify static     ${(api / bareStatic).toFixed(2).padStart(8)}\n`,
    );
  } finally {
    for (const child of children) child.kill();
    await redis.dispose();
  }
}

void main();
