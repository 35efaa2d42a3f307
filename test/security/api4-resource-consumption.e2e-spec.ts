import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

/** OWASP API4:2023 Unrestricted Resource Consumption — sizes, depth, pages and rates are bounded. */
describe('API4 resource consumption', () => {
  let redis: RedisServer;
  let t: TestApp;
  let replica: TestApp;
  let limitsFile: string;

  beforeAll(async () => {
    redis = await RedisServer.start();
    const dir = mkdtempSync(join(tmpdir(), 'limits-'));
    const limits = join(dir, 'rate-limits.yaml');
    limitsFile = limits;
    writeFileSync(
      limits,
      'window_seconds: 60\nfailed_auth_per_ip: 3\nclasses:\n  reads: 5\n  writes: 50\n  bulk: 2\n  invalidation: 2\n  audit_export: 1\n',
    );
    const env = {
      RATE_LIMITS_CONFIG_PATH: limits,
      BODY_LIMIT: '65536',
      REDIS_KEY_PREFIX: 'shared',
    };
    t = await startTestApp(redis.url, env);
    replica = await startTestApp(redis.url, env);
  });

  afterAll(async () => {
    await t.close();
    await replica.close();
    await redis.dispose();
  });

  it('refuses a page size above 100', async () => {
    const response = await t
      .as({ sub: 'pager', roles: ['orchestrator'] })
      .get('/api/v1/sessions?limit=101')
      .expect(400);
    expect(response.body.errors[0].field).toBe('limit');
  });

  it('refuses a body above BODY_LIMIT with 413 before parsing it', async () => {
    const response = await t
      .as({ sub: 'big', roles: ['orchestrator'] })
      .post('/api/v1/sessions')
      .send({ session_config: { blob: 'x'.repeat(70_000) }, created_by: 'u' })
      .expect(413);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('refuses JSON nested deeper than 32 levels', async () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 40; i++) deep = { d: deep };
    await t
      .as({ sub: 'deep', roles: ['orchestrator'] })
      .post('/api/v1/sessions')
      .send({ session_config: deep, created_by: 'u' })
      .expect(400);
  });

  it('refuses a body nested 10,000 levels deep with a 400 naming body, on every body type (was a 500)', async () => {
    const arrays = '['.repeat(10_000) + ']'.repeat(10_000);
    const objects = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    const sends = [
      ['post', '/api/v1/sessions', 'application/json', arrays],
      ['post', '/api/v1/cache/invalidate', 'application/json', objects],
      ['patch', `/api/v1/sessions/${randomUUID()}`, 'application/merge-patch+json', arrays],
    ] as const;
    for (const [method, path, type, body] of sends) {
      const response = await t
        .as({ sub: `deep-${method}-${path.length}`, roles: ['orchestrator'] })
        [method](path)
        .set('content-type', type)
        .send(body);
      expect([response.status, response.headers['content-type']]).toEqual([
        400,
        expect.stringMatching(/application\/problem\+json/),
      ]);
      expect(response.body.errors[0]).toEqual({
        field: 'body',
        message: 'is nested deeper than 64 levels; no field of this API accepts more than 32',
      });
    }
    // A backup line is parsed the same way: the line fails, the import answers.
    const imported = await t
      .as({ sub: 'deep-admin', roles: ['admin'] })
      .post('/api/v1/admin/import')
      .set('content-type', 'application/x-ndjson')
      .send(`${objects}\n`)
      .expect(200);
    expect(imported.body.errors[0].reason).toContain('nested deeper than 64 levels');
  });

  it('refuses a list far over its limit at the cost of one over it: 21 problems, not one per item (was 14 s of CPU and 79 MB)', async () => {
    // Distinct items: @ArrayUnique compares each with every other, quadratic in the list.
    const distinct = Array.from({ length: 6_000 }, (_, i) => i);
    const sends = [
      ['/api/v1/sessions/batch', { sessions: Array(20_000).fill(1) }, 'sessions'],
      ['/api/v1/sessions/batch-get', { session_ids: distinct }, 'session_ids'],
      ['/api/v1/cache/invalidate', { cache_keys: distinct }, 'cache_keys'],
    ] as const;
    for (const [path, body, field] of sends) {
      const response = await t
        .as({ sub: `long-list-${field}`, roles: ['orchestrator'] })
        .post(path)
        .send(body)
        .expect(400);
      expect(response.body.errors.length).toBeLessThanOrEqual(21);
      // The list's own problem comes first (its size, or the rule its items break).
      expect(response.body.errors[0].field).toBe(field);
      expect(response.text.length).toBeLessThan(8_192);
    }
  });

  it('refuses __proto__ and constructor.prototype keys without polluting anything', async () => {
    const caller = t.as({ sub: 'proto', roles: ['orchestrator'] });
    const body = '{"session_config":{"__proto__":{"polluted":true}},"created_by":"u"}';
    await caller
      .post('/api/v1/sessions')
      .set('content-type', 'application/json')
      .send(body)
      .expect(400);
    const ctor =
      '{"session_config":{"constructor":{"prototype":{"polluted":true}}},"created_by":"u"}';
    await caller
      .post('/api/v1/sessions')
      .set('content-type', 'application/json')
      .send(ctor)
      .expect(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rate-limits reads per caller with 429, Retry-After and X-RateLimit-* headers', async () => {
    const caller = t.as({ sub: 'reader-1', roles: ['orchestrator'], tenant: 'rl' });
    const first = await caller.get('/api/v1/sessions').expect(200);
    expect(first.headers['x-ratelimit-limit']).toBe('5');
    expect(first.headers['x-ratelimit-remaining']).toBe('4');
    expect(Number(first.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
    for (let i = 0; i < 4; i++) await caller.get('/api/v1/sessions').expect(200);

    const limited = await caller.get('/api/v1/sessions').expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(limited.body).toMatchObject({ status: 429, type: 'urn:masa:problem:too-many-requests' });
  });

  it('answers 429 to a read over the limit whatever the read found (verdict and read share a flush)', async () => {
    const caller = t.as({ sub: 'reader-4', roles: ['orchestrator'], tenant: 'rl4' });
    const missing = `/api/v1/sessions/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`;
    for (let i = 0; i < 5; i++) await caller.get(missing).expect(404);
    const limited = await caller.get(missing).expect(429);
    expect(limited.body).toMatchObject({ status: 429 });
    // A bad parameter is refused by the limit too once it is exhausted, not answered with a 400.
    await caller.get('/api/v1/sessions/not-a-uuid').expect(429);
  });

  it('keeps separate buckets per subject, per tenant and per route class', async () => {
    const a = t.as({ sub: 'reader-2', roles: ['orchestrator'], tenant: 'rl2' });
    for (let i = 0; i < 5; i++) await a.get('/api/v1/sessions').expect(200);
    await a.get('/api/v1/sessions').expect(429);

    await t
      .as({ sub: 'reader-3', roles: ['orchestrator'], tenant: 'rl2' })
      .get('/api/v1/sessions')
      .expect(200);
    await t
      .as({ sub: 'reader-2', roles: ['orchestrator'], tenant: 'rl3' })
      .get('/api/v1/sessions')
      .expect(200);
    await a.post('/api/v1/sessions').send({ session_config: {}, created_by: 'u' }).expect(201);
  });

  it("keeps a caller's counters in its tenant's hash slot, beside the tenant's data (Cluster: one master per request)", async () => {
    const caller = t.as({ sub: 'slotted-1', roles: ['orchestrator'], tenant: 'rl-slot' });
    await caller.get('/api/v1/sessions').expect(200);
    await caller.post('/api/v1/sessions').send({ session_config: {}, created_by: 'u' }).expect(201);
    const raw = new Redis(redis.port, '127.0.0.1');
    try {
      const counters = (await raw.keys('shared:*rl:*')).filter((key) => key.includes('slotted-1'));
      expect(counters.sort()).toEqual([
        'shared:{rl-slot}:rl:reads:s:slotted-1:default:hits',
        'shared:{rl-slot}:rl:writes:s:slotted-1:default:hits',
      ]);
      const [record] = await raw.keys('shared:{rl-slot}:session:*');
      // Redis Cluster hashes the part between the first '{' and the next '}': same tag, same slot.
      const hashTag = (key: string) => /^[^{]*\{([^}]+)\}/.exec(key)?.[1];
      expect(hashTag(record)).toBe('rl-slot');
      for (const key of counters) expect(hashTag(key)).toBe(hashTag(record));
    } finally {
      raw.disconnect();
    }
  });

  it('limits bulk routes by their own, smaller class', async () => {
    const caller = t.as({ sub: 'bulk-1', roles: ['orchestrator'], tenant: 'rl4' });
    const body = { session_ids: ['3f1c2a9e-8b7d-4c6e-9f01-23456789abcd'] };
    await caller.post('/api/v1/sessions/batch-get').send(body).expect(200);
    await caller.post('/api/v1/sessions/batch-get').send(body).expect(200);
    await caller.post('/api/v1/sessions/batch-get').send(body).expect(429);
  });

  it('holds the limit across replicas sharing Redis', async () => {
    const claims = { sub: 'reader-4', roles: ['orchestrator'], tenant: 'rl5' };
    for (let i = 0; i < 3; i++) await t.as(claims).get('/api/v1/sessions').expect(200);
    for (let i = 0; i < 2; i++) await replica.as(claims).get('/api/v1/sessions').expect(200);
    await replica.as(claims).get('/api/v1/sessions').expect(429);
    await t.as(claims).get('/api/v1/sessions').expect(429);
  });

  it('brakes token guessing: past failed_auth_per_ip from one IP, 429 instead of 401', async () => {
    const guess = () =>
      replica.anonymous.get('/api/v1/sessions').set('Authorization', 'Bearer guess.guess.guess');
    for (let i = 0; i < 3; i++) await guess().expect(401);
    const braked = await guess().expect(429);
    expect(Number(braked.headers['retry-after'])).toBeGreaterThan(0);
    expect(braked.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('behind a trusted proxy, counts failed authentications per forwarded client IP', async () => {
    const proxied = await startTestApp(redis.url, {
      RATE_LIMITS_CONFIG_PATH: limitsFile,
      REDIS_KEY_PREFIX: 'proxied',
      TRUST_PROXY: 'true',
    });
    try {
      const guess = (ip: string) =>
        proxied.anonymous
          .get('/api/v1/sessions')
          .set('X-Forwarded-For', ip)
          .set('Authorization', 'Bearer guess.guess.guess');
      for (let i = 0; i < 3; i++) await guess('203.0.113.1').expect(401);
      await guess('203.0.113.1').expect(429);
      await guess('203.0.113.2').expect(401);
    } finally {
      await proxied.close();
    }
  });

  it('never throttles the public health probes', async () => {
    for (let i = 0; i < 10; i++) await t.anonymous.get('/api/v1/health/live').expect(200);
  });
});
