import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

/** OWASP API8:2023 Security Misconfiguration — headers, CORS and error bodies. */
describe('API8 security misconfiguration', () => {
  let redis: RedisServer;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    t = await startTestApp(redis.url, { CORS_ORIGINS: 'https://console.example.test' });
  });

  afterAll(async () => {
    await t.close();
    await redis.dispose();
  });

  it('sends security headers and no X-Powered-By', async () => {
    const response = await t.http.get('/api/v1/sessions').expect(200);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(response.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.headers['x-powered-by']).toBeUndefined();
  });

  it('answers CORS only for configured origins', async () => {
    const allowed = await t.anonymous
      .options('/api/v1/sessions')
      .set('Origin', 'https://console.example.test')
      .set('Access-Control-Request-Method', 'GET');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://console.example.test');

    const denied = await t.anonymous
      .options('/api/v1/sessions')
      .set('Origin', 'https://evil.example.test')
      .set('Access-Control-Request-Method', 'GET');
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('hides internals in 500s: generic detail, no stack trace, no Redis key names', async () => {
    const created = await t.http
      .post('/api/v1/sessions')
      .send({ session_config: {}, created_by: 'u' })
      .expect(201);
    const raw = new Redis(redis.port, '127.0.0.1');
    await raw.hset(
      `${t.config.redis.keyPrefix}:{default}:session:${created.body.session_id}`,
      'config',
      '{not json',
    );
    raw.disconnect();

    const response = await t.http.get(`/api/v1/sessions/${created.body.session_id}`).expect(500);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.body.detail).toBe(
      'An unexpected error occurred; quote the request_id when reporting it.',
    );
    const text = JSON.stringify(response.body);
    expect(text).not.toMatch(/at .*\.(ts|js):\d+|SyntaxError|JSON|\{default\}|session:/);
  });

  it('keeps 4xx bodies free of key names and stack traces', async () => {
    const response = await t.http.get(`/api/v1/sessions/${randomUUID()}`).expect(404);
    expect(JSON.stringify(response.body)).not.toMatch(/\{default\}|:session:|\.ts:\d+/);
  });

  it('does not reveal Swagger UI when it is switched off', async () => {
    const closed = await startTestApp(redis.url, { SWAGGER_ENABLED: 'false' });
    try {
      await closed.anonymous.get('/docs').expect(404);
      await closed.anonymous.get('/docs-json').expect(404);
    } finally {
      await closed.close();
    }
  });
});
