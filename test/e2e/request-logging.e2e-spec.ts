import { Writable } from 'node:stream';
import { RedisServer } from '../support/redis-server';
import { eventually } from '../support/eventually';
import { startTestApp, tokenFor, type TestApp } from '../support/test-app';

/** Collects the app's JSON log lines. */
class Lines extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  readonly raw: string[] = [];
  override _write(chunk: Buffer, _: string, done: () => void): void {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      this.raw.push(line);
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    done();
  }
  requests(): Record<string, unknown>[] {
    return this.lines.filter((line) => line.msg === 'request completed');
  }
  clear(): void {
    this.lines.length = 0;
    this.raw.length = 0;
  }
}

describe('Request log lines', () => {
  let redis: RedisServer;
  let t: TestApp;
  let quiet: TestApp;
  const logs = new Lines();
  const quietLogs = new Lines();

  beforeAll(async () => {
    redis = await RedisServer.start();
    t = await startTestApp(redis.url, { LOG_LEVEL: 'info' }, { logDestination: logs });
    quiet = await startTestApp(redis.url, { LOG_LEVEL: 'warn' }, { logDestination: quietLogs });
  });

  afterAll(async () => {
    await t.close();
    await quiet.close();
    await redis.dispose();
  });

  beforeEach(() => logs.clear());

  it('writes one line per request: request id, tenant, subject, route template, status, duration', async () => {
    const token = tokenFor({ sub: 'orch-7', roles: ['orchestrator'], tenant: 'acme' });
    const created = await t.anonymous
      .post('/api/v1/sessions')
      .set('Authorization', `Bearer ${token}`)
      .set('Cookie', 'session=cookie-secret')
      .send({ session_config: {}, created_by: 'orch-7' })
      .expect(201);
    const id = (created.body as { session_id: string }).session_id;
    const read = await t.anonymous
      .get(`/api/v1/sessions/${id}`)
      .set('Authorization', `Bearer ${token}`)
      .expect(200);

    const lines = await eventually(() => {
      expect(logs.requests()).toHaveLength(2);
      return logs.requests();
    });
    expect(lines[1]).toMatchObject({
      level: 30,
      request_id: read.headers['x-request-id'],
      tenant: 'acme',
      sub: 'orch-7',
      method: 'GET',
      url: `/api/v1/sessions/${id}`,
      route: '/api/v1/sessions/:session_id',
      status: 200,
    });
    expect(typeof lines[1].duration_ms).toBe('number');
    expect(lines[0]).toMatchObject({ route: '/api/v1/sessions', status: 201 });
    // No header dump: the token and the cookie appear nowhere.
    for (const line of logs.raw) {
      expect(line).not.toContain(token);
      expect(line).not.toContain('cookie-secret');
      expect(line).not.toContain('"headers"');
    }
  });

  it('logs refused requests too, and redacts credentials in the query string', async () => {
    await t.anonymous.get('/api/v1/sessions?access_token=leaked-token&limit=5').expect(401);
    const [line] = await eventually(() => {
      expect(logs.requests()).toHaveLength(1);
      return logs.requests();
    });
    expect(line).toMatchObject({ status: 401, route: '/api/v1/sessions' });
    expect(line.url).toBe('/api/v1/sessions?access_token=[redacted]&limit=5');
    expect(line.tenant).toBeUndefined();
    expect(logs.raw.join('\n')).not.toContain('leaked-token');
  });

  it('carries the trace id of the caller’s traceparent', async () => {
    await t.http
      .get('/api/v1/sessions')
      .set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
      .expect(200);
    await eventually(() => expect(logs.requests()).toHaveLength(1));
    expect(logs.requests()[0].trace_id).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('does not log probes, and follows LOG_LEVEL', async () => {
    await t.anonymous.get('/api/v1/health/live').expect(200);
    await quiet.http.get('/api/v1/sessions').expect(200);
    // A logged request after them: once its line is there, theirs would be too.
    await t.http.get('/api/v1/sessions').expect(200);
    await quiet.http.get('/api/v1/sessions/3f1c2a9e-8b7d-4c6e-9f01-23456789abcd').expect(404);
    await eventually(() => expect(logs.requests()).toHaveLength(1));
    expect(logs.requests()[0].route).toBe('/api/v1/sessions');
    expect(quietLogs.requests()).toHaveLength(0);
  });
});
