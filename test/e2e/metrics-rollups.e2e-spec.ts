import Redis from 'ioredis';
import { PerformanceSnapshotSource } from '../../apps/api/src/common/observability/performance-snapshot';
import { RequestRollups } from '../../apps/api/src/metrics/request-rollups';
import { responsesSettled } from '../support/eventually';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp, type TestClaims } from '../support/test-app';

interface Point {
  timestamp: string;
  requests: number;
  requests_per_second?: number;
  p50_ms?: number | null;
  p95_ms?: number | null;
  p99_ms?: number | null;
  avg_response_time_ms?: number | null;
  errors?: number;
  client_errors?: number;
  error_rate?: number;
}

const analyst: TestClaims = { sub: 'analyst-1', roles: ['analyst'], tenant: 'acme' };
const u1: TestClaims = { sub: 'u1', roles: ['orchestrator'], tenant: 'acme' };
const u2: TestClaims = { sub: 'u2', roles: ['orchestrator'], tenant: 'acme' };
const sum = (points: Point[], field: 'requests' | 'errors' | 'client_errors') =>
  points.reduce((n, p) => n + (p[field] ?? 0), 0);

/** Two replicas on one Redis, as in a deployment: the JSON endpoints answer for both. */
describe('Deployment-wide metrics and usage from the replicas’ rollups', () => {
  let redis: RedisServer;
  let raw: Redis;
  let a: TestApp;
  let b: TestApp;
  let bClosed = false;

  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.port, '127.0.0.1');
    // Flushes happen when the test says so (or on shutdown), not on a timer.
    const env = { METRICS_FLUSH_INTERVAL_MS: '60000' };
    a = await startTestApp(redis.url, env);
    b = await startTestApp(redis.url, env);
  });

  afterAll(async () => {
    await a.close();
    if (!bClosed) await b.close();
    raw.disconnect();
    await redis.dispose();
  });

  it('writes nothing to Redis per request, then sums both replicas after their flushes', async () => {
    const created = await a
      .as(u1)
      .post('/api/v1/sessions')
      .send({ session_config: {}, created_by: 'u1' })
      .expect(201);
    const id = (created.body as { session_id: string }).session_id;
    for (let i = 0; i < 4; i++) await a.as(u1).get(`/api/v1/sessions/${id}`).expect(200);
    for (let i = 0; i < 3; i++) await b.as(u2).get(`/api/v1/sessions/${id}`).expect(200);
    await b.as(u2).get('/api/v1/sessions/3f1c2a9e-8b7d-4c6e-9f01-23456789abcd').expect(404);
    await a.anonymous.get(`/api/v1/sessions/${id}`).expect(401);

    await responsesSettled();
    expect(await raw.keys('*rollup*')).toEqual([]);
    expect(await raw.keys('*usage*')).toEqual([]);

    await a.app.get(RequestRollups).flush();
    await b.app.get(RequestRollups).flush();

    const minutes = (await a.as(analyst).get('/api/v1/metrics?time_range=1h').expect(200)).body as {
      metrics: Point[];
      time_range: string;
      granularity: string;
      collected_at: string;
    };
    expect(minutes.time_range).toBe('1h');
    expect(minutes.granularity).toBe('minute');
    expect(minutes.metrics).toHaveLength(60);
    expect(Date.parse(minutes.collected_at)).toBeGreaterThan(Date.now() - 60000);
    expect(sum(minutes.metrics, 'requests')).toBe(10);
    expect(sum(minutes.metrics, 'client_errors')).toBe(2);
    expect(sum(minutes.metrics, 'errors')).toBe(0);
    const busy = minutes.metrics.filter((p) => p.requests > 0);
    for (const point of busy) {
      expect(point.p50_ms).toBeGreaterThan(0);
      expect(point.p50_ms!).toBeLessThanOrEqual(point.p95_ms!);
      expect(point.p95_ms!).toBeLessThanOrEqual(point.p99_ms!);
      expect(point.requests_per_second).toBeCloseTo(point.requests / 60, 3);
    }

    // Replica B answers the same (A's analyst request above is still in A's unflushed rollup).
    const hours = (await b.as(analyst).get('/api/v1/metrics?time_range=24h').expect(200)).body as {
      metrics: Point[];
    };
    expect(hours.metrics).toHaveLength(24);
    expect(sum(hours.metrics, 'requests')).toBe(10);
    const week = (await b.as(analyst).get('/api/v1/metrics?time_range=7d').expect(200)).body as {
      metrics: Point[];
    };
    expect(week.metrics).toHaveLength(168);
  });

  it('returns only the figures of the metric_type asked for', async () => {
    const latency = (
      await a.as(analyst).get('/api/v1/metrics?time_range=1h&metric_type=latency').expect(200)
    ).body as { metrics: Point[]; metric_type: string };
    expect(latency.metric_type).toBe('latency');
    expect(Object.keys(latency.metrics[0]).sort()).toEqual(
      ['avg_response_time_ms', 'p50_ms', 'p95_ms', 'p99_ms', 'requests', 'timestamp'].sort(),
    );
    const errors = (await a.as(analyst).get('/api/v1/metrics?metric_type=errors').expect(200))
      .body as { metrics: Point[] };
    expect(Object.keys(errors.metrics[0]).sort()).toEqual(
      [
        'client_error_rate',
        'client_errors',
        'error_rate',
        'errors',
        'requests',
        'timestamp',
      ].sort(),
    );
    await a.as(analyst).get('/api/v1/metrics?time_range=2h').expect(400);
    await a.as(analyst).get('/api/v1/metrics?metric_type=cpu').expect(400);
  });

  it('reports usage per tenant by endpoint, user and day, with HyperLogLog unique users', async () => {
    await responsesSettled();
    const byEndpoint = (
      await a.as(analyst).get('/api/v1/analytics/usage?group_by=endpoint').expect(200)
    ).body as {
      usage_data: { endpoint: string; requests: number; errors: number }[];
      summary: { total_requests: number; unique_users: number; top_endpoints: unknown[] };
    };
    // Flushed so far for tenant acme: 1 POST + 8 GETs by u1 and u2 (the analyst's calls since the
    // flush are still in the replicas' rollups; the anonymous 401 belongs to no tenant).
    expect(byEndpoint.usage_data).toEqual([
      { endpoint: 'GET /api/v1/sessions/:session_id', requests: 8, errors: 0 },
      { endpoint: 'POST /api/v1/sessions', requests: 1, errors: 0 },
    ]);
    expect(byEndpoint.summary).toEqual({
      total_requests: 9,
      unique_users: 2,
      top_endpoints: [
        { endpoint: 'GET /api/v1/sessions/:session_id', requests: 8 },
        { endpoint: 'POST /api/v1/sessions', requests: 1 },
      ],
    });

    const byUser = (await a.as(analyst).get('/api/v1/analytics/usage?group_by=user').expect(200))
      .body as { usage_data: unknown[] };
    expect(byUser.usage_data).toEqual([
      { user_id: 'u1', requests: 5 },
      { user_id: 'u2', requests: 4 },
    ]);

    const today = new Date().toISOString().slice(0, 10);
    const byDay = (
      await a
        .as(analyst)
        .get(`/api/v1/analytics/usage?group_by=day&start_date=${today}T00:00:00Z`)
        .expect(200)
    ).body as { usage_data: unknown[]; start_date: string; end_date: string };
    expect(byDay.start_date).toBe(today);
    expect(byDay.end_date).toBe(today);
    expect(byDay.usage_data).toEqual([{ date: today, requests: 9, errors: 0, unique_users: 2 }]);

    // Another tenant sees none of it.
    const other = (
      await a
        .as({ ...analyst, tenant: 'other' })
        .get('/api/v1/analytics/usage')
        .expect(200)
    ).body as { summary: { total_requests: number; unique_users: number } };
    expect(other.summary).toMatchObject({ total_requests: 0, unique_users: 0 });

    await a
      .as(analyst)
      .get('/api/v1/analytics/usage?start_date=2026-12-02T00:00:00Z&end_date=2026-12-01T00:00:00Z')
      .expect(400);
    await a
      .as(analyst)
      .get('/api/v1/analytics/usage?start_date=2020-01-01T00:00:00Z&end_date=2026-12-01T00:00:00Z')
      .expect(400);
    await a.as(analyst).get('/api/v1/analytics/usage?group_by=tenant').expect(400);
    await a.as(u1).get('/api/v1/analytics/usage').expect(403);
  });

  it('gives the health module a deployment-wide snapshot', async () => {
    await responsesSettled();
    const snapshot = await a.app.get(PerformanceSnapshotSource).snapshot(300);
    expect(snapshot.window_seconds).toBe(300);
    // The 10 flushed requests of the first test; later ones are still in the replicas' rollups.
    expect(snapshot.requests_per_second).toBeCloseTo(10 / 300, 3);
    expect(snapshot.error_rate).toBe(0);
    expect(snapshot.avg_response_time_ms).toBeGreaterThan(0);
    expect(snapshot.p95_response_time_ms).toBeGreaterThan(0);
  });

  it('flushes what a replica counted when it shuts down', async () => {
    await b.as(u2).get('/api/v1/sessions').expect(200);
    await b.as(u2).get('/api/v1/sessions').expect(200);
    await responsesSettled();
    await b.close();
    bClosed = true;
    await a.app.get(RequestRollups).flush();
    const minutes = (await a.as(analyst).get('/api/v1/metrics?time_range=1h').expect(200)).body as {
      metrics: Point[];
    };
    // 10 flushed before; B adds its 2 metrics queries and 2 session lists on close; A adds its 13
    // own requests since its first flush (1 + 4 + 8 over the tests above).
    expect(sum(minutes.metrics, 'requests')).toBe(10 + 4 + 13);
  });
});
