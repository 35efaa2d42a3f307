import { randomUUID } from 'node:crypto';
import type TestAgent from 'supertest/lib/agent';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

/** OWASP API1:2023 Broken Object Level Authorization — other tenants' objects do not exist. */
describe('API1 object-level authorization', () => {
  let redis: RedisServer;
  let t: TestApp;
  let acme: TestAgent;
  let globex: TestAgent;
  let sessionId: string;

  beforeAll(async () => {
    redis = await RedisServer.start();
    t = await startTestApp(redis.url);
    acme = t.as({ sub: 'orch-acme', roles: ['orchestrator'], tenant: 'acme' });
    globex = t.as({ sub: 'orch-globex', roles: ['admin'], tenant: 'globex' });
  });

  afterAll(async () => {
    await t.close();
    await redis.dispose();
  });

  beforeEach(async () => {
    const created = await acme
      .post('/api/v1/sessions')
      .send({ session_config: { secret: 'acme-only' }, created_by: 'u1' })
      .expect(201);
    sessionId = created.body.session_id as string;
  });

  /** The 404 for another tenant's id must be indistinguishable from a random id's. */
  async function expectSameAsUnknown(
    call: (id: string) => Promise<{ status: number; body: Record<string, unknown> }>,
  ) {
    const foreign = await call(sessionId);
    const unknown = await call(randomUUID());
    expect(foreign.status).toBe(404);
    const strip = (body: Record<string, unknown>) => ({
      ...body,
      detail: undefined,
      instance: undefined,
      request_id: undefined,
    });
    expect(strip(foreign.body)).toEqual(strip(unknown.body));
  }

  it('cross-tenant read of a session by id is a 404 like an unknown id', async () => {
    await expectSameAsUnknown((id) => globex.get(`/api/v1/sessions/${id}`));
  });

  it('cross-tenant status read is a 404', async () => {
    await expectSameAsUnknown((id) => globex.get(`/api/v1/sessions/${id}/status`));
  });

  it('cross-tenant update is a 404 and changes nothing', async () => {
    await expectSameAsUnknown((id) =>
      globex.put(`/api/v1/sessions/${id}`).send({ metadata: { pwned: true } }),
    );
    await expectSameAsUnknown((id) =>
      globex.put(`/api/v1/sessions/${id}/status`).send({ status: 'pwned', updated_by: 'x' }),
    );
    const own = await acme.get(`/api/v1/sessions/${sessionId}`).expect(200);
    expect(own.body).toMatchObject({ metadata: {}, status: 'created', version: 1 });
  });

  it('cross-tenant delete is a 404 and deletes nothing', async () => {
    await expectSameAsUnknown((id) => globex.delete(`/api/v1/sessions/${id}`));
    await acme.get(`/api/v1/sessions/${sessionId}`).expect(200);
  });

  it('cross-tenant batch read and batch delete report the id as missing', async () => {
    const got = await globex
      .post('/api/v1/sessions/batch-get')
      .send({ session_ids: [sessionId] })
      .expect(200);
    expect(got.body).toEqual({ sessions: [], missing: [sessionId] });
    const deleted = await globex
      .post('/api/v1/sessions/batch-delete')
      .send({ session_ids: [sessionId] })
      .expect(200);
    expect(deleted.body).toEqual({ deleted: [], missing: [sessionId], memory_records_deleted: 0 });
    await acme.get(`/api/v1/sessions/${sessionId}`).expect(200);
  });

  it('another tenant never sees the session in lists or counts, whatever the filters', async () => {
    for (const query of [
      '',
      '?created_by=u1',
      '?status=created',
      '?created_by=u1&status=created',
    ]) {
      const list = await globex.get(`/api/v1/sessions${query}`).expect(200);
      expect(list.body).toMatchObject({ total_count: 0, sessions: [] });
    }
    expect((await acme.get('/api/v1/sessions').expect(200)).body.total_count).toBeGreaterThan(0);
  });

  it('a token without a tenant claim lands in tenant "default", not in another one', async () => {
    const tenantless = t.as({ sub: 'orch-x', roles: ['orchestrator'] });
    await tenantless.get(`/api/v1/sessions/${sessionId}`).expect(404);
  });

  it('guessing ids gives nothing away: random UUIDs are 404 with no hint of existence', async () => {
    for (let i = 0; i < 5; i++) {
      const response = await globex.get(`/api/v1/sessions/${randomUUID()}`).expect(404);
      expect(response.body.detail).toMatch(/^session [0-9a-f-]{36} was not found$/);
    }
  });

  describe('agent memory', () => {
    const agentA = () => t.as({ sub: 'agent-a', roles: ['agent'], tenant: 'acme' });

    beforeEach(async () => {
      for (const [agent, type] of [
        ['agent-a', 'working'],
        ['agent-b', 'working'],
        ['agent-c', 'shared'],
      ]) {
        await acme
          .post(`/api/v1/agents/${agent}/memory`)
          .send({
            session_id: sessionId,
            memory_data: { owner: agent },
            memory_type: type,
            created_by: 'o',
          })
          .expect(201);
      }
    });

    it('cross-tenant reads of memory find nothing', async () => {
      await globex.get(`/api/v1/agents/agent-a/memory/${sessionId}`).expect(404);
      // Another tenant's session does not exist for globex: 404 exactly like a missing one.
      await globex.get(`/api/v1/memory/sessions/${sessionId}`).expect(404);
      const across = await globex
        .get(`/api/v1/memory/agents?agent_ids=agent-a,agent-b&session_ids=${sessionId}`)
        .expect(200);
      expect(across.body).toEqual({
        memory_records: [],
        total_count: 0,
        has_more: false,
        next_cursor: null,
      });
      expect((await globex.get('/api/v1/agents/agent-a/memory').expect(200)).body.total_count).toBe(
        0,
      );
    });

    it('cross-tenant writes to memory are 404 and change nothing', async () => {
      await globex
        .put(`/api/v1/agents/agent-a/memory/${sessionId}`)
        .send({ memory_data: { pwned: true } })
        .expect(404);
      await globex
        .patch(`/api/v1/agents/agent-a/memory/${sessionId}`)
        .set('Content-Type', 'application/merge-patch+json')
        .send(JSON.stringify({ memory_data: { pwned: true } }))
        .expect(404);
      await globex.delete(`/api/v1/agents/agent-a/memory/${sessionId}`).expect(404);
      const own = await acme.get(`/api/v1/agents/agent-a/memory/${sessionId}`).expect(200);
      expect(own.body).toMatchObject({ memory_data: { owner: 'agent-a' }, version: 1 });
    });

    it("an agent cannot read or write another agent's memory by id", async () => {
      await agentA().get(`/api/v1/agents/agent-b/memory/${sessionId}`).expect(404);
      await agentA()
        .put(`/api/v1/agents/agent-b/memory/${sessionId}`)
        .send({ memory_data: { pwned: true } })
        .expect(404);
      await agentA()
        .patch(`/api/v1/agents/agent-b/memory/${sessionId}`)
        .set('Content-Type', 'application/merge-patch+json')
        .send(JSON.stringify({ memory_data: { pwned: true } }))
        .expect(404);
      const untouched = await acme.get(`/api/v1/agents/agent-b/memory/${sessionId}`).expect(200);
      expect(untouched.body).toMatchObject({ memory_data: { owner: 'agent-b' }, version: 1 });
    });

    it("an agent's cross-agent queries return its own records and shared ones only", async () => {
      const bySession = await agentA().get(`/api/v1/memory/sessions/${sessionId}`).expect(200);
      expect(
        bySession.body.agent_memories.map((m: { agent_id: string }) => m.agent_id).sort(),
      ).toEqual(['agent-a', 'agent-c']);
      const across = await agentA()
        .get(`/api/v1/memory/agents?agent_ids=agent-a,agent-b,agent-c&session_ids=${sessionId}`)
        .expect(200);
      expect(across.body.total_count).toBe(2);
      expect(JSON.stringify(across.body)).not.toContain('"owner":"agent-b"');
    });
  });

  describe('cache', () => {
    it('cross-tenant cache reads miss and invalidation cannot reach another tenant', async () => {
      await acme
        .post('/api/v1/cache/tool:result-1')
        .send({ data: { v: 1 }, tags: ['t1'] })
        .expect(201);

      await globex.get('/api/v1/cache/tool:result-1').expect(404);
      const invalidated = await globex
        .post('/api/v1/cache/invalidate')
        .send({ pattern: '*', tags: ['t1'], cache_keys: ['tool:result-1'] })
        .expect(200);
      expect(invalidated.body.invalidated_count).toBe(0);
      await globex.delete('/api/v1/cache/tool:result-1').expect(404);
      expect((await acme.get('/api/v1/cache/tool:result-1').expect(200)).body.data).toEqual({
        v: 1,
      });
    });
  });
});
