import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

const MONITORING = join(__dirname, '..', '..', 'deployment', 'monitoring');

/** Metric families the rules and the Grafana dashboard query (histogram series → family). */
function queriedFamilies(): string[] {
  const text = [
    readFileSync(join(MONITORING, 'prometheus', 'alerts.yml'), 'utf8'),
    readFileSync(join(MONITORING, 'prometheus', 'slo.yml'), 'utf8'),
    readFileSync(join(MONITORING, 'grafana', 'dashboards', 'multi-agent-session-api.json'), 'utf8'),
  ].join('\n');
  const names = [...text.matchAll(/\b(masa_[a-z_]+)\s*[{(]/g)].map((m) =>
    m[1].replace(/_(bucket|count|sum)$/, ''),
  );
  return [...new Set(names)].sort();
}

/** The alert rules and dashboards query what the running API really exports on /metrics. */
describe('Monitoring queries against the live /metrics exposition', () => {
  let redis: RedisServer;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    t = await startTestApp(redis.url);
  });

  afterAll(async () => {
    await t.close();
    await redis.dispose();
  });

  it('uses only metric families the API exports', async () => {
    // Traffic through HTTP, sessions and the cache, so every family has samples.
    const created = await t.http
      .post('/api/v1/sessions')
      .send({ session_config: {}, created_by: 'monitoring' })
      .expect(201);
    await t.http.get(`/api/v1/sessions/${created.body.session_id}`).expect(200);
    await t.http
      .post('/api/v1/cache/monitoring')
      .send({ data: { v: 1 } })
      .expect(201);
    await t.http.get('/api/v1/cache/monitoring').expect(200);

    const exposition = (await t.anonymous.get('/metrics').expect(200)).text;
    const exported = new Set([...exposition.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const queried = queriedFamilies();
    expect(queried.length).toBeGreaterThanOrEqual(10);
    const missing = queried.filter((name) => !exported.has(name));
    expect(missing).toEqual([]);
    // The labels the rules filter on exist.
    expect(exposition).toMatch(/masa_http_requests_total\{[^}]*status_class="2xx"/);
    expect(exposition).toMatch(/masa_http_request_duration_seconds_bucket\{[^}]*le="0.1"/);
    expect(exposition).toMatch(/masa_cache_operations_total\{[^}]*result="hit"/);
  });
});
