import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../../apps/api/src/webhooks/webhook-signature';
import { eventually } from '../support/eventually';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp, type TestClaims } from '../support/test-app';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/** A local receiver: answers 500 to the first `failFirst[path]` requests of a path, 2xx after. */
class Receiver {
  readonly requests: Received[] = [];
  readonly failFirst: Record<string, number> = {};
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const path = req.url ?? '/';
        const left = this.failFirst[path] ?? 0;
        const status = left > 0 ? 500 : 204;
        if (left > 0) this.failFirst[path] = left - 1;
        this.requests.push({ path, headers: req.headers, body, status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  delivered(path: string): Received[] {
    return this.requests.filter((r) => r.path === path && r.status < 300);
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const ADMIN: TestClaims = { sub: 'admin-1', roles: ['admin'] };
const SECRET = 'whsec-test-0123456789abcdef';
const WORKER_ENV = {
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_POLL_INTERVAL_MS: '100',
  WEBHOOK_BACKOFF_BASE_MS: '50',
  WEBHOOK_BACKOFF_MAX_MS: '200',
  WEBHOOK_MAX_ATTEMPTS: '3',
};

describe('Webhooks: signed, retried, ordered deliveries shared by two replicas', () => {
  let redis: RedisServer;
  let receiver: Receiver;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    receiver = new Receiver();
    await receiver.start();
    // Two replicas on one Redis (same key prefix): both run the delivery worker.
    a = await startTestApp(redis.url, WORKER_ENV);
    b = await startTestApp(redis.url, WORKER_ENV);
  });

  afterAll(async () => {
    await a.close();
    await b.close();
    await receiver.stop();
    await redis.dispose();
  });

  async function register(path: string, types: string[]): Promise<string> {
    const response = await a
      .as(ADMIN)
      .post('/api/v1/webhooks')
      .send({ url: `${receiver.url}${path}`, event_types: types, secret: SECRET })
      .expect(201);
    expect(response.body).toMatchObject({ url: `${receiver.url}${path}`, secret: SECRET });
    return (response.body as { webhook_id: string }).webhook_id;
  }

  async function newSession(app: TestApp): Promise<string> {
    const response = await app.http
      .post('/api/v1/sessions')
      .send({ session_config: {}, created_by: 'u' })
      .expect(201);
    return (response.body as { session_id: string }).session_id;
  }

  it('delivers each event once acknowledged, in order, signed, after retries and across a restart', async () => {
    const webhookId = await register('/ordered', ['session.created', 'session.updated']);
    receiver.failFirst['/ordered'] = 2;

    const s1 = await newSession(a);
    await a.http
      .put(`/api/v1/sessions/${s1}`)
      .send({ metadata: { n: 1 } })
      .expect(200);
    await b.http
      .put(`/api/v1/sessions/${s1}`)
      .send({ metadata: { n: 2 } })
      .expect(200);
    // Not subscribed: skipped, never sent.
    await a.http.delete(`/api/v1/sessions/${s1}`).expect(200);
    await eventually(() => expect(receiver.delivered('/ordered')).toHaveLength(3), 10_000);

    // A replica restarts; the other keeps delivering and the new one joins from Redis state.
    await a.close();
    const s2 = await newSession(b);
    a = await startTestApp(redis.url, WORKER_ENV);
    const s3 = await newSession(a);
    await eventually(() => expect(receiver.delivered('/ordered')).toHaveLength(5), 10_000);
    await new Promise((resolve) => setTimeout(resolve, 500));

    const all = receiver.requests.filter((r) => r.path === '/ordered');
    // Every request is signed over its timestamp and body with the webhook's secret.
    for (const request of all) {
      expect(
        verifyWebhook(
          SECRET,
          String(request.headers['webhook-timestamp']),
          request.body,
          String(request.headers['webhook-signature']),
        ),
      ).toBe(true);
      expect(request.headers['webhook-id']).toBe(JSON.parse(request.body).event_id);
    }
    // The first event failed twice, then succeeded: retried, and nothing overtook it.
    expect(all.slice(0, 3).map((r) => [r.headers['webhook-id'], r.status])).toEqual([
      [all[0].headers['webhook-id'], 500],
      [all[0].headers['webhook-id'], 500],
      [all[0].headers['webhook-id'], 204],
    ]);
    const delivered = receiver.delivered('/ordered').map((r) => JSON.parse(r.body));
    // Acknowledged exactly once each (no double delivery by the two replicas), in feed order.
    expect(delivered.map((e) => [e.type, e.resource_id, e.version])).toEqual([
      ['session.created', s1, 1],
      ['session.updated', s1, 2],
      ['session.updated', s1, 3],
      ['session.created', s2, 1],
      ['session.created', s3, 1],
    ]);
    const ids = delivered.map((e) => e.event_id as string);
    expect(new Set(ids).size).toBe(ids.length);

    const listed = await b.as(ADMIN).get('/api/v1/webhooks').expect(200);
    expect(listed.body.webhooks).toEqual([
      expect.objectContaining({ webhook_id: webhookId, event_types: expect.any(Array) }),
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(SECRET);
    await b.as(ADMIN).delete(`/api/v1/webhooks/${webhookId}`).expect(200);
  });

  it('parks a delivery after its attempts, lists it, and redelivers it on request', async () => {
    const webhookId = await register('/dead', ['session.created']);
    receiver.failFirst['/dead'] = 3;
    const sessionId = await newSession(a);

    const parked = await eventually(async () => {
      const response = await a.as(ADMIN).get(`/api/v1/webhooks/${webhookId}/deliveries`);
      expect(response.status).toBe(200);
      expect(response.body.deliveries).toHaveLength(1);
      return response.body.deliveries[0] as {
        delivery_id: string;
        attempts: number;
        last_error: string;
        event: { resource_id: string };
      };
    }, 10_000);
    expect(parked).toMatchObject({ attempts: 3, last_error: 'HTTP 500' });
    expect(parked.event.resource_id).toBe(sessionId);
    // Parking lets later events through.
    const next = await newSession(a);
    await eventually(() => expect(receiver.delivered('/dead')).toHaveLength(1), 10_000);
    expect(JSON.parse(receiver.delivered('/dead')[0].body).resource_id).toBe(next);

    await b
      .as(ADMIN)
      .post(`/api/v1/webhooks/${webhookId}/deliveries/${parked.delivery_id}/redeliver`)
      .expect(202);
    await eventually(() => expect(receiver.delivered('/dead')).toHaveLength(2), 10_000);
    expect(receiver.delivered('/dead')[1].headers['webhook-id']).toBe(parked.delivery_id);
    const after = await a.as(ADMIN).get(`/api/v1/webhooks/${webhookId}/deliveries`).expect(200);
    expect(after.body.deliveries).toEqual([]);
    await a
      .as(ADMIN)
      .post(`/api/v1/webhooks/${webhookId}/deliveries/${parked.delivery_id}/redeliver`)
      .expect(404);
  });

  it('refuses non-http(s) URLs, and private targets unless WEBHOOK_ALLOW_PRIVATE=true', async () => {
    const strict = await startTestApp(redis.url, { WEBHOOK_POLL_INTERVAL_MS: '0' });
    try {
      for (const url of [
        'http://127.0.0.1:8080/hook',
        'http://169.254.169.254/latest/meta-data',
        'http://10.1.2.3/x',
        'http://[::1]/x',
        'ftp://example.com/x',
        'not a url',
      ]) {
        const response = await strict
          .as(ADMIN)
          .post('/api/v1/webhooks')
          .send({ url, event_types: ['session.created'] })
          .expect(400);
        expect(response.body.errors).toEqual([{ field: 'url', message: expect.any(String) }]);
      }
      await strict
        .as({ sub: 'o', roles: ['orchestrator'] })
        .post('/api/v1/webhooks')
        .send({ url: 'https://example.com/x', event_types: ['session.created'] })
        .expect(403);
    } finally {
      await strict.close();
    }
  });
});
