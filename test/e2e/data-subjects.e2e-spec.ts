import 'reflect-metadata';
import Redis from 'ioredis';
import type TestAgent from 'supertest/lib/agent';
import { ConsistencyChecker } from '../../libs/redis/src/consistency/consistency-checker';
import { RedisKeyBuilder } from '../../libs/redis/src/keys/redis-key-builder';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

type Line = Record<string, unknown>;

interface Seeded {
  sessions: string[];
  memory: string[];
  cache: string[];
}

/** Erasure and export of one user's data through the real app, real Redis, real tokens. */
describe('Data-subject requests', () => {
  let redis: RedisServer;
  let raw: Redis;
  let t: TestApp;
  const prefix = `ds${process.pid}`;
  const admin = (tenant = 'default'): TestAgent =>
    t.as({ sub: 'admin-1', roles: ['admin'], tenant });
  const orchestrator = (tenant = 'default'): TestAgent =>
    t.as({ sub: 'orch-1', roles: ['orchestrator'], tenant });

  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.port, '127.0.0.1');
    t = await startTestApp(redis.url, { REDIS_KEY_PREFIX: prefix, AUDIT_PII_MASKING: 'false' });
  });

  afterAll(async () => {
    await t?.close();
    raw?.disconnect();
    await redis?.dispose();
  });

  beforeEach(async () => {
    await raw.flushall();
  });

  /** `sessions` sessions created by `user`, `agents` memory records on each, `cached` tagged entries. */
  async function seed(
    user: string,
    counts: { sessions: number; agents: number; cached: number },
    tenant = 'default',
  ): Promise<Seeded> {
    const out: Seeded = { sessions: [], memory: [], cache: [] };
    for (let s = 0; s < counts.sessions; s++) {
      const created = await orchestrator(tenant)
        .post('/api/v1/sessions')
        .send({
          session_config: { owner: user, n: s },
          metadata: { secret_note: `${user}-note-${s}` },
          created_by: user,
        })
        .expect(201);
      const sessionId = created.body.session_id as string;
      out.sessions.push(sessionId);
      for (let a = 0; a < counts.agents; a++) {
        await orchestrator(tenant)
          .post(`/api/v1/agents/agent-${a}/memory`)
          .send({
            session_id: sessionId,
            memory_type: 'working',
            memory_data: { about: `${user}-memory-${s}-${a}` },
          })
          .expect(201);
        out.memory.push(`agent-${a}/${sessionId}`);
      }
    }
    for (let c = 0; c < counts.cached; c++) {
      const key = `profile:${user}:${c}`;
      await orchestrator(tenant)
        .post(`/api/v1/cache/${key}`)
        .send({ data: { cached: `${user}-cache-${c}` }, tags: [`user:${user}`, 'kind:profile'] })
        .expect(201);
      out.cache.push(key);
    }
    return out;
  }

  async function exportLines(agent: TestAgent, user: string): Promise<Line[]> {
    const response = await agent
      .get(`/api/v1/subjects/${encodeURIComponent(user)}/export`)
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => done(null, text));
      })
      .expect(200);
    expect(response.headers['content-type']).toContain('application/x-ndjson');
    return (response.body as string)
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Line);
  }

  const idsOf = (lines: Line[]) => ({
    sessions: lines.filter((l) => l.type === 'session').map((l) => l.session_id as string),
    memory: lines
      .filter((l) => l.type === 'memory')
      .map((l) => `${String(l.agent_id)}/${String(l.session_id)}`),
    cache: lines.filter((l) => l.type === 'cache').map((l) => l.cache_key as string),
  });

  const sorted = (s: Seeded) => ({
    sessions: [...s.sessions].sort(),
    memory: [...s.memory].sort(),
    cache: [...s.cache].sort(),
  });

  async function checkConsistency(tenant = 'default') {
    const report = await new ConsistencyChecker(raw, new RedisKeyBuilder(prefix)).checkTenant(
      tenant,
    );
    expect(report.violations).toEqual([]);
    return report;
  }

  it('exports exactly the subject’s records, then erases them with an exact receipt, leaving others alone', async () => {
    const a = await seed('alice', { sessions: 3, agents: 2, cached: 2 });
    const b = await seed('bob', { sessions: 2, agents: 1, cached: 1 });

    const exported = await exportLines(admin(), 'alice');
    const got = idsOf(exported);
    expect({
      sessions: got.sessions.sort(),
      memory: got.memory.sort(),
      cache: got.cache.sort(),
    }).toEqual(sorted(a));
    // Payloads come decoded, and each session is followed by its own memory.
    const first = exported[0];
    expect(first).toMatchObject({ type: 'session', created_by: 'alice', payload_encoding: 'json' });
    expect(JSON.stringify(exported)).not.toContain('bob');
    const seen = new Set<unknown>();
    for (const line of exported) {
      if (line.type === 'session') seen.add(line.session_id);
      if (line.type === 'memory') expect(seen.has(line.session_id)).toBe(true);
    }
    expect(exported.find((l) => l.type === 'memory')).toMatchObject({
      data: { about: expect.stringMatching(/^alice-memory-/) },
    });

    const erased = await admin().delete('/api/v1/subjects/alice').expect(200);
    expect(erased.body).toEqual({
      subject: 'alice',
      sessions_deleted: 3,
      memory_records_deleted: 6,
      cache_entries_deleted: 2,
      completed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });

    for (const id of a.sessions) await orchestrator().get(`/api/v1/sessions/${id}`).expect(404);
    for (const key of a.cache) await orchestrator().get(`/api/v1/cache/${key}`).expect(404);
    expect(await exportLines(admin(), 'alice')).toEqual([]);

    // Bob is untouched: same records, same payloads.
    const bob = idsOf(await exportLines(admin(), 'bob'));
    expect({
      sessions: bob.sessions.sort(),
      memory: bob.memory.sort(),
      cache: bob.cache.sort(),
    }).toEqual(sorted(b));
    const kept = await orchestrator().get(`/api/v1/sessions/${b.sessions[0]}`).expect(200);
    expect(kept.body.session_config).toMatchObject({ owner: 'bob' });

    const report = await checkConsistency();
    expect(report).toMatchObject({ sessions: 2, memory_records: 2, cache_entries: 1 });
    // No trace of an unfinished erasure stays behind.
    expect(await raw.keys(`${prefix}:*subjects*`)).toEqual([]);
  });

  it('records the receipt in the audit trail, and the trail keeps no payload of the subject', async () => {
    await seed('carol', { sessions: 2, agents: 1, cached: 1 });
    await admin().delete('/api/v1/subjects/carol').expect(200);

    const trail = (await admin().get('/api/v1/audit').query({ limit: '100' }).expect(200)).body
      .audit_records as Line[];
    const receipt = trail.find((r) => r.operation === 'erase' && r.resource_type === 'subject');
    expect(receipt).toMatchObject({
      resource_id: 'carol',
      user_id: 'admin-1',
      success: true,
      committed_with_change: true,
      response_data: {
        receipt: {
          subject: 'carol',
          sessions_deleted: 2,
          memory_records_deleted: 2,
          cache_entries_deleted: 1,
        },
      },
    });
    const verified = await admin().get('/api/v1/audit/verify').expect(200);
    expect(verified.body).toMatchObject({ verified: true });

    // Ids and actors stay (that is what an audit trail is); payload values do not.
    const stream = JSON.stringify(await raw.xrange(`${prefix}:{default}:audit`, '-', '+'));
    expect(stream).toContain('carol');
    expect(stream).not.toMatch(/carol-note|carol-memory|carol-cache/);
  });

  it('is repeatable: a second erasure deletes nothing and says so', async () => {
    await seed('dave', { sessions: 1, agents: 1, cached: 1 });
    await admin().delete('/api/v1/subjects/dave').expect(200);
    const again = await admin().delete('/api/v1/subjects/dave').expect(200);
    expect(again.body).toMatchObject({
      subject: 'dave',
      sessions_deleted: 0,
      memory_records_deleted: 0,
      cache_entries_deleted: 0,
    });
  });

  it('finishes an interrupted erasure with totals that include what the first run deleted', async () => {
    const erin = await seed('erin', { sessions: 3, agents: 1, cached: 0 });
    // What an interrupted run leaves: one session already gone, its count in the progress hash.
    const keys = new RedisKeyBuilder(prefix);
    await orchestrator().delete(`/api/v1/sessions/${erin.sessions[0]}`).expect(200);
    await raw.hset(keys.subjectErasure('default', 'erin'), 'sessions', 1, 'memory', 1);

    const finished = await admin().delete('/api/v1/subjects/erin').expect(200);
    expect(finished.body).toMatchObject({ sessions_deleted: 3, memory_records_deleted: 3 });
    expect(await raw.exists(keys.subjectErasure('default', 'erin'))).toBe(0);
    await checkConsistency();
  });

  it('erases in bounded steps: more sessions than one step holds', async () => {
    const many = 230; // > 2 steps of ERASURE_SESSION_STEP (100)
    await orchestrator()
      .post('/api/v1/sessions/batch')
      .send({
        sessions: Array.from({ length: 100 }, () => ({ session_config: {}, created_by: 'frank' })),
      })
      .expect(201);
    await orchestrator()
      .post('/api/v1/sessions/batch')
      .send({
        sessions: Array.from({ length: 100 }, () => ({ session_config: {}, created_by: 'frank' })),
      })
      .expect(201);
    await orchestrator()
      .post('/api/v1/sessions/batch')
      .send({
        sessions: Array.from({ length: many - 200 }, () => ({
          session_config: {},
          created_by: 'frank',
        })),
      })
      .expect(201);
    const exported = await exportLines(admin(), 'frank');
    expect(exported.filter((l) => l.type === 'session')).toHaveLength(many);
    const erased = await admin().delete('/api/v1/subjects/frank').expect(200);
    expect(erased.body.sessions_deleted).toBe(many);
    await checkConsistency();
  });

  it('stays inside the caller’s tenant', async () => {
    await seed('gina', { sessions: 1, agents: 1, cached: 1 }, 'tenant-b');
    const other = await admin('default').delete('/api/v1/subjects/gina').expect(200);
    expect(other.body).toMatchObject({ sessions_deleted: 0, cache_entries_deleted: 0 });
    expect(await exportLines(admin('default'), 'gina')).toEqual([]);
    expect(idsOf(await exportLines(admin('tenant-b'), 'gina')).sessions).toHaveLength(1);
  });

  it('refuses callers without the subjects permissions, and bad user ids', async () => {
    await seed('hank', { sessions: 1, agents: 0, cached: 0 });
    await orchestrator().delete('/api/v1/subjects/hank').expect(403);
    await orchestrator().get('/api/v1/subjects/hank/export').expect(403);
    await t
      .as({ sub: 'an-1', roles: ['analyst'] })
      .get('/api/v1/subjects/hank/export')
      .expect(403);
    const bad = await admin().delete(`/api/v1/subjects/${encodeURIComponent(' bad id')}`);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('user_id');
    expect(idsOf(await exportLines(admin(), 'hank')).sessions).toHaveLength(1);
  });
});
