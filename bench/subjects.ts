/**
 * How long one data-subject erasure step holds Redis (rule 5: bound every script by work).
 * Seeds SUBJECT_BENCH_SESSIONS sessions for one user, each with SUBJECT_BENCH_AGENTS memory records,
 * plus SUBJECT_BENCH_CACHE tagged cache entries and as many sessions of other users, erases the
 * user with the repository, and reads every step's duration from SLOWLOG (threshold 0). Baseline in
 * the same run: the other user's data removed by the existing paths (session batch delete of 100,
 * tag invalidation), whose scripts do the same work per record.
 *
 *   npx ts-node -r tsconfig-paths/register --transpile-only bench/subjects.ts
 */
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { auditScope } from '../libs/redis/src/audit/audit-scope';
import { RedisCacheRepository } from '../libs/redis/src/cache/redis-cache.repository';
import { createRedisClient } from '../libs/redis/src/connection/redis-client.factory';
import { RedisKeyBuilder } from '../libs/redis/src/keys/redis-key-builder';
import { RedisMemoryRepository } from '../libs/redis/src/memory/redis-memory.repository';
import { JsonPayloadCodec } from '../libs/redis/src/payload-codec';
import { RedisSessionRepository } from '../libs/redis/src/sessions/redis-session.repository';
import { RedisSubjectRepository } from '../libs/redis/src/subjects/redis-subject.repository';
import {
  ERASE_SUBJECT_CACHE,
  ERASE_SUBJECT_SESSIONS,
  FINISH_SUBJECT_ERASURE,
} from '../libs/redis/src/subjects/subject.scripts';
import { INVALIDATE_CACHE_TAG } from '../libs/redis/src/cache/cache.scripts';
import { DELETE_SESSIONS } from '../libs/redis/src/sessions/session.scripts';
import { RedisServer } from '../test/support/redis-server';

const SESSIONS = Number(process.env.SUBJECT_BENCH_SESSIONS ?? 1000);
const AGENTS = Number(process.env.SUBJECT_BENCH_AGENTS ?? 5);
const CACHE = Number(process.env.SUBJECT_BENCH_CACHE ?? 1000);
const TENANT = 'bench';

const SCRIPTS = new Map([
  [ERASE_SUBJECT_SESSIONS.sha, 'sessions step'],
  [ERASE_SUBJECT_CACHE.sha, 'cache step'],
  [FINISH_SUBJECT_ERASURE.sha, 'finish'],
  [DELETE_SESSIONS.sha, 'baseline: session batch delete of 100'],
  [INVALIDATE_CACHE_TAG.sha, 'baseline: tag invalidation step'],
]);

/** Adds the durations (µs) of the scripts above found in SLOWLOG, then empties it. */
async function collectSlowlog(admin: Redis, into: Map<string, number[]>): Promise<void> {
  const entries = (await admin.call('SLOWLOG', 'GET', '-1')) as [
    number,
    number,
    number,
    string[],
  ][];
  for (const [, , micros, args] of entries) {
    const name = SCRIPTS.get(String(args[1]).toLowerCase());
    if (String(args[0]).toLowerCase() !== 'evalsha' || name === undefined) continue;
    into.set(name, [...(into.get(name) ?? []), micros]);
  }
  await admin.call('SLOWLOG', 'RESET');
}

async function main(): Promise<void> {
  const server = await RedisServer.start();
  const admin = new Redis(server.port, '127.0.0.1');
  const client = createRedisClient({
    url: server.url,
    commandTimeoutMs: 15000,
    connectTimeoutMs: 1000,
  });
  await new Promise((resolve) => client.once('ready', resolve));
  try {
    const keys = new RedisKeyBuilder('b');
    const codec = new JsonPayloadCodec();
    const sessions = new RedisSessionRepository(client, keys, codec);
    const memory = new RedisMemoryRepository(client, keys, codec);
    const cache = new RedisCacheRepository(client, keys, codec);
    const subjects = new RedisSubjectRepository(client, keys);
    const otherIds: string[] = [];
    for (const user of ['subject', 'other']) {
      for (let i = 0; i < SESSIONS; i += 100) {
        const batch = Array.from({ length: Math.min(100, SESSIONS - i) }, () => ({
          id: randomUUID(),
          config: { agents: ['planner', 'researcher'] },
          metadata: { note: 'x'.repeat(200) },
          status: 'active',
          createdBy: user,
          ttlSeconds: 3600,
        }));
        await sessions.create(TENANT, batch);
        if (user === 'other') otherIds.push(...batch.map((b) => b.id));
        await Promise.all(
          batch.flatMap((s) =>
            Array.from({ length: AGENTS }, (_, a) =>
              memory.create(
                TENANT,
                {
                  memoryId: randomUUID(),
                  agentId: `agent-${a}`,
                  sessionId: s.id,
                  memoryType: 'working',
                  data: { notes: ['y'.repeat(200)] },
                  createdBy: 'orchestrator',
                  ttlSeconds: 3600,
                },
                1 << 20,
              ),
            ),
          ),
        );
      }
      for (let i = 0; i < CACHE; i++) {
        await cache.set(TENANT, {
          key: `profile:${user}:${i}`,
          data: { text: 'z'.repeat(200) },
          ttlSeconds: 3600,
          tags: [`user:${user}`],
          onlyIfAbsent: false,
        });
      }
    }
    await cache.onApplicationShutdown();
    await admin.config('SET', 'slowlog-log-slower-than', '0');
    await admin.config('SET', 'slowlog-max-len', '100000');
    await admin.call('SLOWLOG', 'RESET');

    const rec = JSON.stringify({
      operation: 'erase',
      resource_type: 'subject',
      request_id: 'bench',
    });
    const started = process.hrtime.bigint();
    const totals = await auditScope.run({ committed: 0, record: () => rec }, () =>
      subjects.erase(TENANT, 'subject'),
    );
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const byScript = new Map<string, number[]>();
    await collectSlowlog(admin, byScript);
    await auditScope.run({ committed: 0, record: () => rec }, async () => {
      for (let i = 0; i < otherIds.length; i += 100) {
        await sessions.delete(TENANT, otherIds.slice(i, i + 100));
      }
      await cache.invalidate(TENANT, { tags: ['user:other'] }, 0);
    });
    await collectSlowlog(admin, byScript);

    console.log(
      `seeded per user: ${SESSIONS} sessions x ${AGENTS} memory records, ${CACHE} tagged cache entries`,
    );
    console.log(`receipt: ${JSON.stringify(totals)}; erase wall clock ${wallMs.toFixed(0)} ms`);
    for (const [name, micros] of byScript) {
      const sorted = [...micros].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)];
      console.log(
        `${name}: ${sorted.length} calls, median ${(median / 1000).toFixed(2)} ms, ` +
          `max ${(sorted[sorted.length - 1] / 1000).toFixed(2)} ms`,
      );
    }
  } finally {
    client.disconnect();
    admin.disconnect();
    await server.dispose();
  }
}

void main();
