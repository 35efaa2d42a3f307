import { execFileSync } from 'node:child_process';
import { GAUGE_MAX_AGE_MS, StoreGauges } from '../../apps/api/src/metrics/store-gauges';
import { eventually, responsesSettled } from '../support/eventually';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

const METRICS_TOKEN = 'scrape-token-0123456789';

/** The value of one sample line `name{labels} value` (labels given in prom-client's order). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Prometheus GET /metrics', () => {
  let redis: RedisServer;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    t = await startTestApp(redis.url, { METRICS_TOKEN });
  });

  afterAll(async () => {
    await t.close();
    await redis.dispose();
  });

  const scrape = async () =>
    (
      await t.anonymous
        .get('/metrics')
        .set('Authorization', `Bearer ${METRICS_TOKEN}`)
        .expect(200)
        .expect('content-type', /^text\/plain; version=0\.0\.4/)
    ).text;

  it('refuses a scrape without the bearer METRICS_TOKEN, or with another one', async () => {
    await t.anonymous
      .get('/metrics')
      .expect(401)
      .expect('content-type', /problem\+json/);
    await t.anonymous.get('/metrics').set('Authorization', 'Bearer wrong-token').expect(401);
    await t.http.get('/metrics').expect(401); // an API token is not the scrape token
  });

  it('is served outside /api/v1', async () => {
    await t.anonymous.get('/api/v1/metrics').expect(401); // that is the JSON endpoint, behind RBAC
    await scrape();
  });

  it('counts requests by route template, method and status class, including guard refusals', async () => {
    const created = await t.http
      .post('/api/v1/sessions')
      .send({ session_config: {}, created_by: 'u-1' })
      .expect(201);
    const id = (created.body as { session_id: string }).session_id;
    for (let i = 0; i < 3; i++) await t.http.get(`/api/v1/sessions/${id}`).expect(200);
    await t.http.get('/api/v1/sessions/3f1c2a9e-8b7d-4c6e-9f01-23456789abcd').expect(404);
    await t.anonymous.get(`/api/v1/sessions/${id}`).expect(401); // refused by the guard
    await t
      .as({ sub: 'a', roles: ['agent'] })
      .delete(`/api/v1/sessions/${id}`)
      .expect(403);
    await t.anonymous.get('/no/such/path/12345').expect(404);
    await responsesSettled();

    const text = await scrape();
    const route = 'route="/api/v1/sessions/:session_id"';
    expect(sample(text, `masa_http_requests_total{method="GET",${route},status_class="2xx"}`)).toBe(
      3,
    );
    expect(sample(text, `masa_http_requests_total{method="GET",${route},status_class="4xx"}`)).toBe(
      2,
    );
    expect(
      sample(text, `masa_http_requests_total{method="DELETE",${route},status_class="4xx"}`),
    ).toBe(1);
    expect(
      sample(
        text,
        `masa_http_requests_total{method="POST",route="/api/v1/sessions",status_class="2xx"}`,
      ),
    ).toBe(1);
    expect(
      sample(
        text,
        `masa_http_request_duration_seconds_count{method="GET",${route},status_class="2xx"}`,
      ),
    ).toBe(3);
    expect(
      sample(text, `masa_http_requests_total{method="GET",route="unmatched",status_class="4xx"}`),
    ).toBe(1);
    expect(sample(text, 'masa_http_requests_in_flight')).toBe(1); // the scrape itself
    expect(
      sample(text, 'masa_http_request_size_bytes_count{method="POST",route="/api/v1/sessions"}'),
    ).toBe(1);
    expect(
      sample(text, `masa_http_response_size_bytes_count{method="GET",${route}}`),
    ).toBeGreaterThanOrEqual(3);

    // Label values are bounded: no session id and no raw path ever appears.
    expect(text).not.toContain(id);
    expect(text).not.toContain('/no/such/path');
  });

  it('exports repository, Redis and store metrics after known traffic', async () => {
    for (let i = 0; i < 2; i++) {
      await t.http
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'u-2' })
        .expect(201);
    }
    await t.http
      .post('/api/v1/sessions')
      .send({ session_config: {}, created_by: 'u-2', status: 'completed' })
      .expect(201);
    await t.http
      .post('/api/v1/cache/k1')
      .send({ data: { v: 1 } })
      .expect(201);
    await t.http.get('/api/v1/cache/k1').expect(200);
    await t.http.get('/api/v1/cache/k1').expect(200);
    await t.http.get('/api/v1/cache/absent').expect(404);

    // Index gauges are at most GAUGE_MAX_AGE_MS old; start a new period instead of waiting.
    await t.app.get(StoreGauges).refresh(Date.now() + GAUGE_MAX_AGE_MS);
    const text = await scrape();
    // 1 session from the previous test + 3 here.
    expect(sample(text, 'masa_sessions_created_total')).toBe(4);
    expect(sample(text, 'masa_sessions_stored')).toBe(4);
    expect(sample(text, 'masa_sessions_by_status{status="created"}')).toBe(3);
    expect(sample(text, 'masa_sessions_by_status{status="completed"}')).toBe(1);
    expect(sample(text, 'masa_sessions_active')).toBe(3);
    expect(sample(text, 'masa_cache_entries')).toBe(1);
    expect(sample(text, 'masa_cache_operations_total{operation="get",result="hit"}')).toBe(2);
    expect(sample(text, 'masa_cache_operations_total{operation="get",result="miss"}')).toBe(1);
    expect(sample(text, 'masa_cache_operations_total{operation="set",result="ok"}')).toBe(1);
    expect(sample(text, 'masa_cache_hit_ratio')).toBeCloseTo(2 / 3, 5);
    expect(sample(text, 'masa_crud_operations_total{operation="create",entity="session"}')).toBe(4);
    expect(
      sample(text, 'masa_crud_operation_duration_seconds_count{operation="get",entity="cache"}'),
    ).toBe(3);
    expect(sample(text, 'masa_crud_batch_size_count{operation="create",entity="session"}')).toBe(4);
    expect(sample(text, 'masa_redis_up')).toBe(1);
    const node = `node="127.0.0.1:${new URL(redis.url).port}"`;
    expect(sample(text, `masa_redis_memory_used_bytes{${node}}`)).toBeGreaterThan(0);
    expect(sample(text, `masa_redis_memory_max_bytes{${node}}`)).toBe(0);
    expect(sample(text, 'masa_redis_commands_total{command="evalsha"}')).toBeGreaterThan(0);
    expect(
      sample(text, 'masa_redis_command_duration_seconds_count{command="zcard"}'),
    ).toBeGreaterThan(0);
    expect(text).toContain('masa_process_cpu_seconds_total');
    expect(text).toContain('masa_nodejs_eventloop_lag_seconds');
  });

  it('reads Redis for the store gauges at most once per period, however often it is scraped', async () => {
    const infoCalls = (text: string) => sample(text, 'masa_redis_commands_total{command="info"}');
    await t.app.get(StoreGauges).refresh(Date.now() + GAUGE_MAX_AGE_MS);
    const first = infoCalls(await scrape());
    await t.http.get('/api/v1/sessions').expect(200);
    const later = infoCalls(await scrape());
    expect(first).toBeGreaterThan(0);
    expect(later).toBe(first);
  });

  it('still answers while Redis is down, with redis_up 0 and the 503s counted', async () => {
    await redis.stop();
    try {
      await t.http.get('/api/v1/sessions').expect(503);
      await responsesSettled();
      await eventually(async () => {
        await t.app.get(StoreGauges).refresh(Date.now() + GAUGE_MAX_AGE_MS);
        expect(sample(await scrape(), 'masa_redis_up')).toBe(0);
      });
      const text = await scrape();
      expect(
        sample(
          text,
          'masa_http_requests_total{method="GET",route="/api/v1/sessions",status_class="5xx"}',
        ),
      ).toBe(1);
      expect(sample(text, 'masa_redis_connections{client="main",state="ready"}')).toBe(0);
    } finally {
      await redis.restart();
    }
  });

  it('passes promtool check metrics', async () => {
    const text = await scrape();
    let output: string;
    try {
      output = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    } catch (error) {
      const failure = error as { code?: string; stdout?: string; stderr?: string };
      if (failure.code === 'ENOENT') {
        throw new Error('promtool is missing: apt-get install -y prometheus (see .ci/run)');
      }
      throw new Error(`promtool check metrics failed:\n${failure.stdout}${failure.stderr}`);
    }
    expect(output.trim()).toBe('');
  });
});
