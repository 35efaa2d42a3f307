/**
 * npm run bench:audit-memory — Redis memory taken by the audit trail per million records.
 * Appends AUDIT_BENCH_RECORDS typical records (a session create by an orchestrator, the shape the
 * write scripts append) through the production append script into a private redis-server, then
 * reads MEMORY USAGE of the stream (exact: SAMPLES 0) and scales it.
 */
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { APPEND_AUDIT_RECORD } from '../libs/redis/src/audit/audit.lua';
import { RedisKeyBuilder } from '../libs/redis/src/keys/redis-key-builder';
import { RedisServer } from '../test/support/redis-server';

const RECORDS = Number(process.env.AUDIT_BENCH_RECORDS ?? 100_000);
const PIPELINE = 500;

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
