import { randomUUID } from 'node:crypto';
import { auditScope } from '@app/redis/audit/audit-scope';
import type { RedisClient } from '@app/redis/connection/redis-client.factory';
import { ConsistencyChecker } from '@app/redis/consistency/consistency-checker';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import { RedisMemoryRepository } from '@app/redis/memory/redis-memory.repository';
import { JsonPayloadCodec } from '@app/redis/payload-codec';
import { RedisSessionRepository } from '@app/redis/sessions/redis-session.repository';
import {
  ERASURE_RECORD_BUDGET,
  RedisSubjectRepository,
} from '@app/redis/subjects/redis-subject.repository';
import type Redis from 'ioredis';
import { startRedisHarness, type RedisHarness } from '../support/redis-harness';

const TENANT = 'acme';

describe('RedisSubjectRepository against a real Redis', () => {
  let harness: RedisHarness;
  let client: RedisClient;
  let raw: Redis;
  const keys = new RedisKeyBuilder('it');
  const codec = new JsonPayloadCodec();

  beforeAll(async () => {
    harness = await startRedisHarness(5000);
    ({ client, raw } = harness);
  });

  afterAll(() => harness.stop());

  beforeEach(async () => {
    await raw.flushall();
  });

  async function seed(user: string, sessionCount: number, agents: number): Promise<string[]> {
    const sessions = new RedisSessionRepository(client, keys, codec);
    const memory = new RedisMemoryRepository(client, keys, codec);
    const batch = Array.from({ length: sessionCount }, () => ({
      id: randomUUID(),
      config: {},
      metadata: {},
      status: 'active',
      createdBy: user,
      ttlSeconds: 3600,
    }));
    await sessions.create(TENANT, batch);
    for (const session of batch) {
      for (let a = 0; a < agents; a++) {
        await memory.create(
          TENANT,
          {
            memoryId: randomUUID(),
            agentId: `agent-${a}`,
            sessionId: session.id,
            memoryType: 'working',
            data: { n: a },
            createdBy: 'orchestrator',
            ttlSeconds: 3600,
          },
          1 << 20,
        );
      }
    }
    return batch.map((s) => s.id);
  }

  it('stops each step at the record budget, not at the session count, and sums every step', async () => {
    // 60 sessions x (1 + 5 memory records) = 360 records: more than one step's budget.
    await seed('user:1', 60, 5);
    const kept = await seed('user:2', 3, 2);
    const steps: string[] = [];
    const frame = {
      committed: 0,
      record: () => JSON.stringify({ operation: 'erase', request_id: 'it' }),
      onCommit: (record: string) => steps.push(record),
    };
    const totals = await auditScope.run(frame, () =>
      new RedisSubjectRepository(client, keys).erase(TENANT, 'user:1'),
    );
    expect(totals).toMatchObject({ sessionsDeleted: 60, memoryRecordsDeleted: 300 });

    const trail = await raw.xrange(keys.audit(TENANT).stream, '-', '+');
    const outs = trail.map(
      ([, fields]) =>
        JSON.parse(fields[fields.indexOf('out') + 1]) as {
          resource_ids?: string[];
          memory_records_deleted?: number;
          receipt?: unknown;
        },
    );
    const sessionSteps = outs.filter((o) => o.memory_records_deleted !== undefined);
    expect(sessionSteps.length).toBe(Math.ceil(360 / (ERASURE_RECORD_BUDGET + 2)));
    for (const step of sessionSteps) {
      expect(step.resource_ids!.length * 6).toBeLessThanOrEqual(ERASURE_RECORD_BUDGET + 5);
    }
    expect(sessionSteps.reduce((n, s) => n + s.resource_ids!.length, 0)).toBe(60);
    expect(outs[outs.length - 1].receipt).toMatchObject({
      subject: 'user:1',
      sessions_deleted: 60,
      memory_records_deleted: 300,
      cache_entries_deleted: 0,
    });
    expect(steps).toHaveLength(outs.length);

    const report = await new ConsistencyChecker(raw, keys).checkTenant(TENANT);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ sessions: kept.length, memory_records: 6 });
    expect(await raw.exists(keys.subjectErasure(TENANT, 'user:1'))).toBe(0);
  });

  it('runs outside a request without writing audit records', async () => {
    await seed('user:3', 2, 1);
    const totals = await new RedisSubjectRepository(client, keys).erase(TENANT, 'user:3');
    expect(totals).toMatchObject({ sessionsDeleted: 2, memoryRecordsDeleted: 2 });
    expect(await raw.exists(keys.audit(TENANT).stream)).toBe(0);
  });
});
