import Redis from 'ioredis';
import { ShutdownState } from '../../apps/api/src/lifecycle/shutdown-state';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

const analyst = { sub: 'analyst-1', roles: ['analyst'] };

describe('Health endpoints', () => {
  let redis: RedisServer;
  let raw: Redis;
  let t: TestApp;

  beforeAll(async () => {
    // DEBUG SLEEP lets the tests make Redis slow on purpose.
    redis = await RedisServer.start(['--enable-debug-command', 'yes']);
    raw = new Redis(redis.port, '127.0.0.1');
    t = await startTestApp(redis.url);
  });

  afterAll(async () => {
    await t.close();
    raw.disconnect();
    await redis.dispose();
  });

  const detailed = () => t.as(analyst).get('/api/v1/health/detailed');

  it('keeps the basic, liveness and readiness probes public', async () => {
    const basic = await t.anonymous.get('/api/v1/health').expect(200);
    expect(basic.body).toEqual({
      status: 'healthy',
      timestamp: expect.any(String),
      version: expect.any(String),
      uptime_seconds: expect.any(Number),
    });
    await t.anonymous.get('/api/v1/health/live').expect(200, { status: 'ok' });
    const ready = await t.anonymous.get('/api/v1/health/ready').expect(200);
    expect(ready.body).toMatchObject({ status: 'ok', info: { api: { status: 'up' } } });
    expect(ready.body.info.redis.status).toBe('up');
  });

  it('refuses the detailed report without a token (401) and without health:read (403)', async () => {
    const anonymous = await t.anonymous.get('/api/v1/health/detailed').expect(401);
    expect(JSON.stringify(anonymous.body)).not.toMatch(/used_memory|redis_version|7\.\d/);
    await t.http.get('/api/v1/health/detailed').expect(403);
  });

  it("answers the plan's shape: status, components redis/api/cache and performance_metrics", async () => {
    const { body } = await detailed().expect(200);
    expect(body).toMatchObject({
      status: 'healthy',
      version: expect.any(String),
      uptime_seconds: expect.any(Number),
      components: {
        redis: {
          status: 'healthy',
          role: 'master',
          topology: { mode: 'standalone', connected_replicas: 0 },
          max_memory_bytes: 0,
          issues: [],
        },
        api: { status: 'healthy', shutting_down: false, issues: [] },
        cache: { status: 'healthy', eviction_policy: 'noeviction', evicted_keys: 0, issues: [] },
      },
    });
    const { redis: redisComponent, api } = body.components;
    expect(redisComponent.response_time_ms).toBeLessThan(100);
    expect(redisComponent.used_memory_bytes).toBeGreaterThan(0);
    expect(redisComponent.connected_clients).toBeGreaterThanOrEqual(2); // the app and this test
    expect(redisComponent.version).toMatch(/^\d+\.\d+/);
    // The request asking is itself in flight.
    expect(api.in_flight_requests).toBeGreaterThanOrEqual(1);
    expect(api.rss_bytes).toBeGreaterThan(0);
    expect('performance_metrics' in body).toBe(true);
  });

  it('is degraded (200) while Redis answers PING slower than 100 ms', async () => {
    const sleeping = raw.call('DEBUG', 'SLEEP', '0.4');
    await new Promise((r) => setTimeout(r, 20));
    const { body } = await detailed().expect(200);
    await sleeping;
    expect(body.status).toBe('degraded');
    expect(body.components.redis.status).toBe('degraded');
    expect(body.components.redis.response_time_ms).toBeGreaterThanOrEqual(100);
    expect(body.components.redis.issues[0]).toMatch(/PING took \d+ ms/);
  });

  it('fails readiness when Redis does not answer PING within the probe budget', async () => {
    const sleeping = raw.call('DEBUG', 'SLEEP', '1.6');
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    const ready = await t.anonymous.get('/api/v1/health/ready').expect(503);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(ready.body.details.redis.message).toMatch(/within 1000 ms/);
    await sleeping;
    await t.anonymous.get('/api/v1/health/ready').expect(200);
  });

  it('marks the cache degraded when Redis may evict entries', async () => {
    await raw.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const { body } = await detailed().expect(200);
      expect(body.status).toBe('degraded');
      expect(body.components.redis.status).toBe('healthy');
      expect(body.components.cache).toMatchObject({
        status: 'degraded',
        eviction_policy: 'allkeys-lru',
      });
      expect(body.components.cache.issues[0]).toMatch(/noeviction/);
    } finally {
      await raw.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });

  it('is unhealthy (503) while Redis is down, and healthy again when it is back', async () => {
    await redis.stop();
    try {
      const { body } = await detailed().expect(503);
      expect(body.status).toBe('unhealthy');
      expect(body.components.redis.status).toBe('unhealthy');
      expect(body.components.redis.issues[0]).toMatch(/does not answer/);
      expect(body.components.cache.status).toBe('unhealthy');
      expect(body.components.api.status).toBe('healthy');
      await t.anonymous.get('/api/v1/health/live').expect(200);
    } finally {
      await redis.restart();
    }
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await detailed()).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
  });

  // Last: a process that has begun to shut down stays that way.
  it('fails readiness from the moment shutdown begins and asks clients to reconnect', async () => {
    await t.anonymous.get('/api/v1/health/ready').expect(200);
    t.app.get(ShutdownState).begin();

    const ready = await t.anonymous.get('/api/v1/health/ready').expect(503);
    expect(ready.body.details.api).toEqual({ status: 'down', message: 'shutting down' });
    expect(ready.headers.connection).toBe('close');
    // Still serving everything else during the delay window.
    await t.anonymous.get('/api/v1/health/live').expect(200);
    const { body } = await detailed().expect(503);
    expect(body.components.api).toMatchObject({ status: 'unhealthy', shutting_down: true });
  });
});
