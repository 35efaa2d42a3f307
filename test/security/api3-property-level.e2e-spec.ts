import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

/** OWASP API3:2023 Broken Object Property Level Authorization — mass assignment and leaks. */
describe('API3 property-level authorization', () => {
  let redis: RedisServer;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    // A policy where a non-orchestrator role may create sessions, to prove created_by is then forced.
    const dir = mkdtempSync(join(tmpdir(), 'rbac-'));
    const rbac = join(dir, 'rbac.yaml');
    writeFileSync(
      rbac,
      'roles:\n  admin: ["*"]\n  orchestrator: [sessions:create, sessions:read, sessions:update]\n  analyst: [sessions:create, sessions:read, sessions:update]\n  agent: [sessions:read]\n',
    );
    t = await startTestApp(redis.url, { RBAC_CONFIG_PATH: rbac });
  });

  afterAll(async () => {
    await t.close();
    await redis.dispose();
  });

  it.each(['version', 'created_at', 'updated_at', 'tenant', 'session_id', 'expires_at'])(
    'refuses "%s" in a create body instead of taking it',
    async (field) => {
      const response = await t.http
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'u', [field]: field === 'version' ? 99 : 'forged' })
        .expect(400);
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    },
  );

  it.each(['version', 'created_by', 'tenant', 'session_id'])(
    'refuses "%s" in an update body',
    async (field) => {
      const created = await t.http
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'u' })
        .expect(201);
      await t.http
        .put(`/api/v1/sessions/${created.body.session_id}`)
        .send({ metadata: {}, [field]: 'x' })
        .expect(400);
    },
  );

  it('lets an orchestrator set created_by for the user it acts for', async () => {
    const created = await t.http
      .post('/api/v1/sessions')
      .send({ session_config: {}, created_by: 'end-user-7' })
      .expect(201);
    const read = await t.http.get(`/api/v1/sessions/${created.body.session_id}`).expect(200);
    expect(read.body.created_by).toBe('end-user-7');
  });

  it('records the caller itself as created_by and updated_by for roles that do not act for others', async () => {
    const analyst = t.as({ sub: 'analyst-9', roles: ['analyst'] });
    const created = await analyst
      .post('/api/v1/sessions')
      .send({ session_config: {}, created_by: 'somebody-else' })
      .expect(201);
    const id = created.body.session_id as string;
    expect((await analyst.get(`/api/v1/sessions/${id}`).expect(200)).body.created_by).toBe(
      'analyst-9',
    );

    await analyst
      .put(`/api/v1/sessions/${id}/status`)
      .send({ status: 'x', updated_by: 'somebody-else' })
      .expect(200);
    const stored = await t.http.get(`/api/v1/sessions?created_by=somebody-else`).expect(200);
    expect(stored.body.total_count).toBe(0);
  });

  it('returns exactly the documented fields: no tenant, no storage internals', async () => {
    const created = await t.http
      .post('/api/v1/sessions')
      .send({ session_config: { a: 1 }, created_by: 'u' })
      .expect(201);
    const read = await t.http.get(`/api/v1/sessions/${created.body.session_id}`).expect(200);
    expect(Object.keys(read.body).sort()).toEqual(
      [
        'created_at',
        'created_by',
        'expires_at',
        'metadata',
        'session_config',
        'session_id',
        'status',
        'updated_at',
        'version',
      ].sort(),
    );
    const list = await t.http.get('/api/v1/sessions').expect(200);
    expect(Object.keys(list.body).sort()).toEqual([
      'has_more',
      'next_cursor',
      'sessions',
      'total_count',
    ]);
    expect(JSON.stringify(list.body)).not.toMatch(
      /ttl_ms|config_bytes|status_updated_by|\{default\}/,
    );
  });
});
