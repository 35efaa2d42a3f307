import Redis from 'ioredis';
import { RedisSentinelGroup } from '../support/redis-sentinel';
import { startTestApp, type TestApp } from '../support/test-app';

const ADMIN = { sub: 'admin-1', roles: ['admin'], tenant: 'acme' };

/**
 * Writes sent as plain commands (not scripts) honour REDIS_MIN_REPLICAS_ACK like the scripts do:
 * with the replica frozen (SIGSTOP), WAIT times out and the caller is told the outcome is unknown
 * instead of being acknowledged a write that only the primary holds.
 */
describe('plain-command writes under REDIS_MIN_REPLICAS_ACK=1 with a frozen replica', () => {
  let group: RedisSentinelGroup;
  let t: TestApp;
  let primary: Redis;

  beforeAll(async () => {
    group = await RedisSentinelGroup.start();
    t = await startTestApp(group.url, {
      REDIS_MIN_REPLICAS_ACK: '1',
      REDIS_WAIT_TIMEOUT_MS: '200',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_POLL_INTERVAL_MS: '0',
    });
    primary = new Redis(group.primaryPort, '127.0.0.1');
  }, 60_000);

  afterAll(async () => {
    group?.resumeReplica();
    primary?.disconnect();
    await t?.close();
    group?.dispose();
  });

  afterEach(() => group.resumeReplica());

  function expectOutcomeUnknown(response: { status: number; body: Record<string, unknown> }) {
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({
      type: 'urn:masa:problem:write-outcome-unknown',
      store_failure: 'outcome_unknown',
    });
  }

  it('an API key revocation the replica did not confirm is 503 outcome unknown', async () => {
    const admin = t.as(ADMIN);
    const issued = await admin
      .post('/api/v1/admin/api-keys')
      .send({ name: 'billing', roles: ['orchestrator'] })
      .expect(201);
    const id = issued.body.id as string;

    group.pauseReplica();
    expectOutcomeUnknown(await admin.delete(`/api/v1/admin/api-keys/${id}`));
    // The primary applied it: the key is revoked there, and reads keep answering meanwhile.
    const listed = await admin.get('/api/v1/admin/api-keys').expect(200);
    expect((listed.body.api_keys as { id: string }[]).map((k) => k.id)).not.toContain(id);
    group.resumeReplica();

    // With the replica back, the same kind of write is acknowledged.
    const other = await admin
      .post('/api/v1/admin/api-keys')
      .send({ name: 'other', roles: ['orchestrator'] })
      .expect(201);
    await admin.delete(`/api/v1/admin/api-keys/${other.body.id as string}`).expect(200);
  }, 30_000);

  it('a webhook create and a webhook delete the replica did not confirm are 503 outcome unknown', async () => {
    const admin = t.as(ADMIN);
    const body = { url: 'http://127.0.0.1:9/hook', event_types: ['session.created'] };
    const kept = await admin.post('/api/v1/webhooks').send(body).expect(201);

    group.pauseReplica();
    expectOutcomeUnknown(await admin.post('/api/v1/webhooks').send(body));
    expectOutcomeUnknown(await admin.delete(`/api/v1/webhooks/${kept.body.webhook_id as string}`));
    group.resumeReplica();

    const listed = await admin.get('/api/v1/webhooks').expect(200);
    // The delete was applied on the primary; the create may or may not have been (it stops at
    // the first unconfirmed step), which is what "outcome unknown" tells the caller.
    const ids = (listed.body.webhooks as { webhook_id: string }[]).map((w) => w.webhook_id);
    expect(ids).not.toContain(kept.body.webhook_id);
    expect(ids.length).toBeLessThanOrEqual(1);
    await admin.post('/api/v1/webhooks').send(body).expect(201);
  }, 30_000);
});
