import Redis from 'ioredis';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { API_KEY_REVALIDATE_MS } from '../../apps/api/src/api-keys/api-key.authenticator';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

interface IssuedKey {
  id: string;
  api_key: string;
  key_hint: string;
}

/** The plan's api_keys: admin-managed, hashed at rest, `Bearer <api_key>`, scopes, revocation. */
describe('API keys', () => {
  let redis: RedisServer;
  let raw: Redis;
  let t: TestApp;
  let replica: TestApp;
  const PREFIX = 'keys';

  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.port, '127.0.0.1');
    const dir = mkdtempSync(join(tmpdir(), 'masa-keys-'));
    const limits = join(dir, 'rate-limits.yaml');
    writeFileSync(
      limits,
      'window_seconds: 60\nfailed_auth_per_ip: 5\nclasses:\n  reads: 8\n  writes: 100\n  bulk: 10\n  invalidation: 10\n  audit_export: 1\n',
    );
    const env = { REDIS_KEY_PREFIX: PREFIX, RATE_LIMITS_CONFIG_PATH: limits };
    t = await startTestApp(redis.url, env);
    // A second replica on the same Redis: what one revokes, the other must stop honouring.
    replica = await startTestApp(redis.url, env);
  });

  afterAll(async () => {
    await t.close();
    await replica.close();
    raw.disconnect();
    await redis.dispose();
  });

  const admin = (tenant = 'acme') => t.as({ sub: 'admin-1', roles: ['admin'], tenant });

  async function issue(body: object, tenant = 'acme'): Promise<IssuedKey> {
    const response = await admin(tenant)
      .post('/api/v1/admin/api-keys')
      .send({ name: 'billing-service', ...body })
      .expect(201);
    return response.body as IssuedKey;
  }

  const on = (app: TestApp) => request(app.app.getHttpServer());

  it('issues a key once, as the plan writes it: Authorization: Bearer <api_key>', async () => {
    const key = await issue({ roles: ['orchestrator'] });
    expect(key).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f]{16}$/),
      name: 'billing-service',
      api_key: expect.stringMatching(/^masa_acme\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/),
      key_hint: `masa_acme.${key.id}.…`,
      roles: ['orchestrator'],
      scopes: null,
      created_by: 'admin-1',
      expires_at: null,
    });
    const created = await on(t)
      .post('/api/v1/sessions')
      .set('Authorization', `Bearer ${key.api_key}`)
      .send({ session_config: { agents: ['planner'] }, created_by: 'user-42' })
      .expect(201);
    // The key acts in its tenant: the admin of acme sees the session, another tenant does not.
    await admin().get(`/api/v1/sessions/${created.body.session_id}`).expect(200);
    await admin('globex').get(`/api/v1/sessions/${created.body.session_id}`).expect(404);
    await on(t).get('/api/v1/sessions?limit=1').set('X-API-Key', key.api_key).expect(200);
  });

  it('stores only the SHA-256 of the key and never lists the key', async () => {
    const key = await issue({ scopes: ['read'] });
    const record = await raw.hgetall(`${PREFIX}:{acme}:apikey:${key.id}`);
    expect(record.secret_hash).toBe(createHash('sha256').update(key.api_key).digest('hex'));
    const secret = key.api_key.split('.')[2];
    expect(JSON.stringify(record)).not.toContain(secret);

    const listed = await admin().get('/api/v1/admin/api-keys').expect(200);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(listed.body.api_keys).toContainEqual(
      expect.objectContaining({ id: key.id, key_hint: key.key_hint, scopes: ['read'] }),
    );
    expect(listed.body.api_keys[0]).not.toHaveProperty('api_key');
    // Another tenant's admin neither lists nor revokes it.
    const other = await admin('globex').get('/api/v1/admin/api-keys').expect(200);
    expect(other.body.api_keys.map((k: IssuedKey) => k.id)).not.toContain(key.id);
    await admin('globex').delete(`/api/v1/admin/api-keys/${key.id}`).expect(404);
  });

  it('maps scopes to permissions: read reads, write writes; with a role, both must allow', async () => {
    const reader = await issue({ scopes: ['read'] });
    const writer = await issue({ scopes: ['write'] });
    const both = await issue({ roles: ['orchestrator'], scopes: ['read'] });
    const body = { session_config: {}, created_by: 'svc' };
    const post = (key: IssuedKey) =>
      on(t).post('/api/v1/sessions').set('Authorization', `Bearer ${key.api_key}`).send(body);
    await on(t).get('/api/v1/sessions').set('X-API-Key', reader.api_key).expect(200);
    await post(reader).expect(403);
    await post(writer).expect(201);
    await post(both).expect(403);
  });

  it('never issues a key with more than its creator holds', async () => {
    // An admin key narrowed by scopes may manage keys and read, nothing else.
    const narrowed = await issue({ roles: ['admin'], scopes: ['admin:api-keys', 'read'] });
    const asNarrowed = (body: object) =>
      on(t)
        .post('/api/v1/admin/api-keys')
        .set('X-API-Key', narrowed.api_key)
        .send({ name: 'x', ...body });
    const refused = await asNarrowed({ roles: ['orchestrator'] }).expect(400);
    expect(refused.body.errors[0]).toMatchObject({
      field: 'roles',
      message: expect.stringContaining('sessions:create'),
    });
    await asNarrowed({ scopes: ['read'] }).expect(201);
    await on(t)
      .post('/api/v1/admin/api-keys')
      .set('Authorization', `Bearer ${(await issue({ roles: ['orchestrator'] })).api_key}`)
      .send({ name: 'x', roles: ['orchestrator'] })
      .expect(403);
  });

  it('validates the request: roles or scopes, known roles, a future expiry', async () => {
    await admin().post('/api/v1/admin/api-keys').send({ name: 'x' }).expect(400);
    await admin()
      .post('/api/v1/admin/api-keys')
      .send({ name: 'x', roles: ['root'] })
      .expect(400);
    await admin()
      .post('/api/v1/admin/api-keys')
      .send({ name: 'x', roles: ['agent'], expires_at: '2020-01-01T00:00:00Z' })
      .expect(400);
    await admin().delete('/api/v1/admin/api-keys/not-an-id').expect(400);
  });

  it('revocation: refused at once by the replica that revoked, by every other within a second', async () => {
    const key = await issue({ roles: ['analyst'] });
    const read = (app: TestApp) =>
      on(app).get('/api/v1/sessions?limit=1').set('Authorization', `Bearer ${key.api_key}`);
    // Both replicas have verified (and remembered) the key.
    await read(t).expect(200);
    await read(replica).expect(200);

    const revoked = await admin().delete(`/api/v1/admin/api-keys/${key.id}`).expect(200);
    expect(revoked.body).toEqual({ revoked: true, revoked_at: expect.any(String) });
    await read(t).expect(401);
    await new Promise((resolve) => setTimeout(resolve, API_KEY_REVALIDATE_MS + 100));
    await read(replica).expect(401);
    await admin().delete(`/api/v1/admin/api-keys/${key.id}`).expect(404);
  });

  it('rate-limits a key like a token: per caller, 429 with Retry-After past the limit', async () => {
    const key = await issue({ scopes: ['read'] });
    const read = () => on(t).get('/api/v1/sessions?limit=1').set('X-API-Key', key.api_key);
    for (let i = 0; i < 8; i++) await read().expect(200);
    const limited = await read().expect(429);
    expect(limited.headers['retry-after']).toBeDefined();
    // Another key is another caller.
    const fresh = await issue({ scopes: ['read'] });
    await on(t).get('/api/v1/sessions?limit=1').set('X-API-Key', fresh.api_key).expect(200);
  });

  it('brakes key guessing: past failed_auth_per_ip, 429 instead of 401', async () => {
    const guess = () =>
      on(t)
        .get('/api/v1/sessions')
        .set('X-API-Key', `masa_acme.0123456789abcdef.${'A'.repeat(43)}`);
    let last = 401;
    for (let i = 0; i < 8 && last === 401; i++) last = (await guess()).status;
    expect(last).toBe(429);
  });
});
