/**
 * npm run bench:audit — what the audit trail costs, on a private redis-server:
 * 1. the write path: RedisSessionRepository.create() of one session, sequentially, without an
 *    audit frame (no record) and with one (record appended by the same script), alternating rounds;
 * 2. memory: AUDIT_BENCH_RECORDS typical records (a session create by an orchestrator, the shape
 *    the write scripts append) through the production append script, then MEMORY USAGE of the
 *    stream (exact: SAMPLES 0), scaled to a million.
 */
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { auditScope } from '../libs/redis/src/audit/audit-scope';
import { APPEND_AUDIT_RECORD } from '../libs/redis/src/audit/audit.lua';
import { createRedisClient } from '../libs/redis/src/connection/redis-client.factory';
import { RedisKeyBuilder } from '../libs/redis/src/keys/redis-key-builder';
import { JsonPayloadCodec } from '../libs/redis/src/payload-codec';
import { RedisSessionRepository } from '../libs/redis/src/sessions/redis-session.repository';
import { RedisServer } from '../test/support/redis-server';

const RECORDS = Number(process.env.AUDIT_BENCH_RECORDS ?? 100_000);
const PIPELINE = 500;
const WRITES = Number(process.env.AUDIT_BENCH_WRITES ?? 2000);
const ROUNDS = 5;

/**
 * Per create, medians over ROUNDS alternating rounds, without and with a record: wall-clock µs
 * seen by the caller, and µs Redis spent in the script (INFO commandstats, evalsha usec_per_call),
 * which other load on the machine disturbs far less.
 */
async function writeCost(url: string, admin: Redis): Promise<Record<string, [number, number]>> {
  const client = createRedisClient({ url, commandTimeoutMs: 5000, connectTimeoutMs: 1000 });
  await new Promise((resolve) => client.once('ready', resolve));
  const repo = new RedisSessionRepository(client, new RedisKeyBuilder('w'), new JsonPayloadCodec());
  const { rec } = record();
  const frame = { committed: 0, record: () => rec };
  const session = () => ({
    id: randomUUID(),
    config: { agents: ['planner', 'researcher'] },
    metadata: { project: 'p-17' },
    status: 'created',
    createdBy: 'orchestrator-1',
    ttlSeconds: 3600,
  });
  const round = async (audited: boolean): Promise<[number, number]> => {
    await admin.config('RESETSTAT');
    const started = process.hrtime.bigint();
    for (let i = 0; i < WRITES; i++) {
      const create = () => repo.create('acme', [session()]);
      await (audited ? auditScope.run(frame, create) : create());
    }
    const wall = Number(process.hrtime.bigint() - started) / 1000 / WRITES;
    const stats = await admin.info('commandstats');
    const inRedis = Number(/cmdstat_evalsha:.*usec_per_call=([\d.]+)/.exec(stats)?.[1] ?? NaN);
    return [wall, inRedis];
  };
  await round(false); // warm-up: scripts loaded, JIT warm
  await round(true);
  const plain: [number, number][] = [];
  const audited: [number, number][] = [];
  for (let r = 0; r < ROUNDS; r++) {
    plain.push(await round(false));
    audited.push(await round(true));
  }
  client.disconnect();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return {
    'wall clock, µs per create': [median(plain.map((x) => x[0])), median(audited.map((x) => x[0]))],
    'in Redis (script), µs     ': [
      median(plain.map((x) => x[1])),
      median(audited.map((x) => x[1])),
    ],
  };
}

function record(): { rec: string; out: string } {
  const id = randomUUID();
  const rec = JSON.stringify({
    operation: 'create',
    resource_type: 'session',
    resource_id: null,
    user_id: 'orchestrator-1',
    tenant: 'acme',
    roles: ['orchestrator'],
    request_id: randomUUID(),
    method: 'POST',
    route: '/api/v1/sessions',
    ip_address: '10.12.3.45',
    user_agent: 'orchestrator-sdk/1.4.2 node/20.11.1',
    request_data: {
      session_config: { agents: ['planner', 'researcher'], max_steps: 20 },
      metadata: { project: 'p-17' },
      created_by: 'orchestrator-1',
    },
    success: true,
    status_code: 201,
    error: null,
    duration_ms: 2.417,
    trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
  });
  const out = JSON.stringify({ resource_ids: [id], version: 1, created_at: Date.now() });
  return { rec, out };
}

async function main(): Promise<void> {
  const server = await RedisServer.start();
  const redis = new Redis(server.port, '127.0.0.1');
  try {
    const cost = await writeCost(server.url, redis);
    process.stdout.write(
      `session create, sequential, medians of ${ROUNDS} alternating rounds × ${WRITES}\n`,
    );
    process.stdout.write(`                            without record  with record  ratio\n`);
    for (const [what, [plain, audited]] of Object.entries(cost)) {
      process.stdout.write(
        `${what}  ${plain.toFixed(1).padStart(14)}  ${audited.toFixed(1).padStart(11)}  ${(audited / plain).toFixed(2).padStart(5)}\n`,
      );
    }
    process.stdout.write('\n');
    await redis.flushall();

    const space = new RedisKeyBuilder('masa').audit('acme');
    await redis.script('LOAD', APPEND_AUDIT_RECORD.source);
    const before = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
    let bytesOfRecords = 0;
    for (let done = 0; done < RECORDS; done += PIPELINE) {
      const pipeline = redis.pipeline();
      for (let i = 0; i < Math.min(PIPELINE, RECORDS - done); i++) {
        const { rec, out } = record();
        bytesOfRecords += Buffer.byteLength(rec) + Buffer.byteLength(out);
        pipeline.evalsha(APPEND_AUDIT_RECORD.sha, 2, space.stream, space.head, rec, out);
      }
      await pipeline.exec();
    }
    const stream = Number(await redis.call('MEMORY', 'USAGE', space.stream, 'SAMPLES', '0'));
    const after = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
    const perRecord = stream / RECORDS;
    const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
    process.stdout.write(`records                         ${RECORDS}\n`);
    process.stdout.write(
      `payload (rec + out), avg bytes  ${(bytesOfRecords / RECORDS).toFixed(0)}\n`,
    );
    process.stdout.write(`MEMORY USAGE of the stream      ${stream} bytes\n`);
    process.stdout.write(`per record                      ${perRecord.toFixed(0)} bytes\n`);
    process.stdout.write(`per million records             ${mib(perRecord * 1e6)} MiB\n`);
    process.stdout.write(`used_memory delta               ${mib(after - before)} MiB\n`);
  } finally {
    redis.disconnect();
    await server.dispose();
  }
}

void main();
