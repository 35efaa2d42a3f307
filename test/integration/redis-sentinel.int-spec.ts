import Redis from 'ioredis';
import { RedisSentinelGroup } from '../support/redis-sentinel';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The API behind Redis Sentinel: it finds the primary through Sentinel, and after the primary dies
 * and Sentinel promotes the replica it serves again by itself (503 in between, never a hang).
 */
describe('on Redis Sentinel', () => {
  let group: RedisSentinelGroup;
  let t: TestApp;

  beforeAll(async () => {
    group = await RedisSentinelGroup.start();
    t = await startTestApp(group.url);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    group?.dispose();
  });

  it('serves sessions through the primary Sentinel names, and follows a failover', async () => {
    const created = await t.http
      .post('/api/v1/sessions')
      .send({ session_config: { a: 1 }, created_by: 'u' })
      .expect(201);
    const id = created.body.session_id as string;
    // Replication is asynchronous: wait until the replica holds the session before the primary
    // dies, so the test proves failover handling rather than racing the replication stream.
    const replica = new Redis(group.replicaPort, '127.0.0.1');
    const key = `${t.config.redis.keyPrefix}:{default}:session:${id}`;
    for (let i = 0; i < 100 && (await replica.exists(key)) === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await replica.exists(key)).toBe(1);
    replica.disconnect();

    group.killPrimary();
    await group.awaitFailover();

    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await t.http.get(`/api/v1/sessions/${id}`)).status;
      expect([200, 503]).toContain(status);
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
    await t.http.post('/api/v1/sessions').send({ session_config: {}, created_by: 'u' }).expect(201);
  }, 60_000);
});
