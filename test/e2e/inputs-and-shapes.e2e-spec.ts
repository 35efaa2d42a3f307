import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

/** Issue #13: inputs that make sense for the caller, and one shape for every write and list. */
describe('Inputs that make sense and one shape', () => {
  let redis: RedisServer;
  let raw: Redis;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.port, '127.0.0.1');
    // An analyst that may create and update sessions: a role that cannot act for others.
    const dir = mkdtempSync(join(tmpdir(), 'rbac-'));
    const rbac = join(dir, 'rbac.yaml');
    writeFileSync(
      rbac,
      'roles:\n  admin: ["*"]\n' +
        '  orchestrator: [sessions:create, sessions:read, sessions:update, memory:read, memory:write]\n' +
        '  analyst: [sessions:create, sessions:read, sessions:update]\n' +
        '  agent: [sessions:read, memory:read, memory:write]\n',
    );
    t = await startTestApp(redis.url, { RBAC_CONFIG_PATH: rbac });
  });

  afterAll(async () => {
    await t.close();
    raw.disconnect();
    await redis.dispose();
  });

  const analyst = () => t.as({ sub: 'analyst-7', roles: ['analyst'] });
  const agent = () => t.as({ sub: 'agent-9', roles: ['agent'] });
  const sessionKey = (id: string) => `${t.config.redis.keyPrefix}:{default}:session:${id}`;

  describe('created_by / updated_by', () => {
    it('lets a caller that cannot act for others leave created_by and updated_by out (they are its sub)', async () => {
      const created = await analyst()
        .post('/api/v1/sessions')
        .send({ session_config: {} })
        .expect(201);
      const read = await analyst().get(`/api/v1/sessions/${created.body.session_id}`).expect(200);
      expect(read.body.created_by).toBe('analyst-7');

      await analyst()
        .put(`/api/v1/sessions/${created.body.session_id}/status`)
        .send({ status: 'running' })
        .expect(200);
      expect(await raw.hget(sessionKey(created.body.session_id), 'status_updated_by')).toBe(
        'analyst-7',
      );
    });

    it('requires created_by from orchestrators and admins, saying so, and defaults updated_by to the caller', async () => {
      const refused = await t.http
        .post('/api/v1/sessions')
        .send({ session_config: {} })
        .expect(400);
      expect(refused.body.errors).toEqual([
        {
          field: 'created_by',
          message:
            'created_by is required for orchestrator and admin tokens (the user or service the session is for)',
        },
      ]);
      const batch = await t.http
        .post('/api/v1/sessions/batch')
        .send({ sessions: [{ session_config: {}, created_by: 'u' }, { session_config: {} }] })
        .expect(400);
      expect(batch.body.errors[0].field).toBe('sessions[1].created_by');

      const created = await t.http
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'user-1' })
        .expect(201);
      await t.http
        .put(`/api/v1/sessions/${created.body.session_id}/status`)
        .send({ status: 'done' })
        .expect(200);
      expect(await raw.hget(sessionKey(created.body.session_id), 'status_updated_by')).toBe(
        'orchestrator-1',
      );
    });

    it('lets an agent create its memory without created_by', async () => {
      const session = await t.http
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'user-1' })
        .expect(201);
      const sessionId = session.body.session_id as string;
      await agent()
        .post('/api/v1/agents/agent-9/memory')
        .send({ session_id: sessionId, memory_data: { a: 1 }, memory_type: 'working' })
        .expect(201);
      const read = await agent().get(`/api/v1/agents/agent-9/memory/${sessionId}`).expect(200);
      expect(read.body.created_by).toBe('agent-9');
      // An orchestrator leaving it out is recorded as itself.
      await t.http
        .post('/api/v1/agents/other/memory')
        .send({ session_id: sessionId, memory_data: {}, memory_type: 'working' })
        .expect(201);
      const other = await t.http.get(`/api/v1/agents/other/memory/${sessionId}`).expect(200);
      expect(other.body.created_by).toBe('orchestrator-1');
    });
  });

  // Found by the fuzzer: `@IsOptional()` let a null through, and an admin's `created_by: null`
  // stored "" on the record but "null" in the membership index (a consistency violation).
  it('refuses null for an optional field, naming it, and writes nothing', async () => {
    const refused = await t.http
      .post('/api/v1/sessions')
      .send({ session_config: {}, created_by: null })
      .expect(400);
    expect(refused.body.errors).toContainEqual({
      field: 'created_by',
      message: 'created_by may be left out but must not be null',
    });
    const patched = await t.http
      .post('/api/v1/sessions')
      .send({ session_config: {}, created_by: 'user-1' })
      .expect(201);
    const id = patched.body.session_id as string;
    for (const body of [{ status: 'done', updated_by: null }, { status: null }]) {
      const res = await t.http.put(`/api/v1/sessions/${id}/status`).send(body).expect(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([
        Object.keys(body).find((k) => body[k as keyof typeof body] === null),
      ]);
    }
    const memory = await t.http
      .post('/api/v1/agents/agent-9/memory')
      .send({ session_id: id, memory_data: {}, memory_type: 'working', created_by: null })
      .expect(400);
    expect(memory.body.errors[0].field).toBe('created_by');
    const memberships = await raw.hvals(`${t.config.redis.keyPrefix}:{default}:sessions:members`);
    expect(memberships.length).toBeGreaterThan(0);
    expect(memberships.filter((m) => /^(null)?\n/.test(m))).toEqual([]);
  });

  describe('every write answers its new version, in the body and as ETag', () => {
    it('sessions: create, PUT and PUT status agree on status and version', async () => {
      const created = await t.http
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'user-1' })
        .expect(201);
      expect(created.body).toMatchObject({ status: 'created', version: 1 });
      expect(created.headers.etag).toBe('"1"');
      const id = created.body.session_id as string;

      const put = await t.http
        .put(`/api/v1/sessions/${id}`)
        .set('If-Match', '"1"')
        .send({ metadata: { m: 1 } })
        .expect(200);
      expect(put.body).toEqual({
        session_id: id,
        status: 'created',
        updated_at: expect.any(String),
        version: 2,
      });
      expect(put.headers.etag).toBe('"2"');

      const status = await t.http
        .put(`/api/v1/sessions/${id}/status`)
        .set('If-Match', '"2"')
        .send({ status: 'running' })
        .expect(200);
      expect(status.body).toEqual({
        session_id: id,
        status: 'running',
        updated_at: expect.any(String),
        version: 3,
      });
      expect(status.headers.etag).toBe('"3"');
    });

    it('memory: create, PUT and PATCH answer the version they wrote', async () => {
      const session = await t.http
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'user-1' })
        .expect(201);
      const path = `/api/v1/agents/writer/memory`;
      const created = await t.http
        .post(path)
        .send({ session_id: session.body.session_id, memory_data: {}, memory_type: 'working' })
        .expect(201);
      expect(created.body.version).toBe(1);
      expect(created.headers.etag).toBe('"1"');
      const put = await t.http
        .put(`${path}/${session.body.session_id}`)
        .send({ memory_data: { a: 1 } })
        .expect(200);
      expect(put.body.version).toBe(2);
      expect(put.headers.etag).toBe('"2"');
    });
  });

  describe('one shape for every list', () => {
    it('gives every list total_count, has_more and next_cursor (plus the plan’s own names)', async () => {
      const session = await t.http
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'lister' })
        .expect(201);
      await t.http
        .post('/api/v1/agents/l1/memory')
        .send({ session_id: session.body.session_id, memory_data: {}, memory_type: 'working' })
        .expect(201);
      const lists: [string, string][] = [
        ['/api/v1/sessions?created_by=lister', 'sessions'],
        ['/api/v1/agents/l1/memory', 'memory_records'],
        [`/api/v1/memory/sessions/${session.body.session_id}`, 'agent_memories'],
        ['/api/v1/memory/agents?agent_ids=l1', 'memory_records'],
      ];
      for (const [url, items] of lists) {
        const response = await t.http.get(url).expect(200);
        expect(response.body).toMatchObject({
          [items]: [expect.any(Object)],
          total_count: 1,
          has_more: false,
          next_cursor: null,
        });
      }
      const bySession = await t.http
        .get(`/api/v1/memory/sessions/${session.body.session_id}`)
        .expect(200);
      expect(bySession.body.total_agents).toBe(1);
    });
  });
});
