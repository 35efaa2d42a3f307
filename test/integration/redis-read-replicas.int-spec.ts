import Redis from 'ioredis';
import { RedisSentinelGroup } from '../support/redis-sentinel';
import { startTestApp, type TestApp } from '../support/test-app';

/** Calls of one command a server has served so far (INFO commandstats). */
async function calls(server: Redis, command: string): Promise<number> {
  const info = await server.info('commandstats');
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info);
  return match ? Number(match[1]) : 0;
}

/**
 * REDIS_READ_FROM=replica behind Sentinel: GETs by id and read-only scripts are served by the
 * replica, while writes (and the CAS of an If-Match update) still go to the primary.
 */
describe('REDIS_READ_FROM=replica on Redis Sentinel', () => {
  let group: RedisSentinelGroup;
  let t: TestApp;
  let primary: Redis;
  let replica: Redis;

  beforeAll(async () => {
    group = await RedisSentinelGroup.start();
    t = await startTestApp(group.url, { REDIS_READ_FROM: 'replica' });
    primary = new Redis(group.primaryPort, '127.0.0.1');
    replica = new Redis(group.replicaPort, '127.0.0.1');
  }, 60_000);

  afterAll(async () => {
    primary?.disconnect();
    replica?.disconnect();
    await t?.close();
    group?.dispose();
  });

  /** Replication is asynchronous: a read right after a write may not see it yet. */
  async function replicated(key: string): Promise<void> {
    for (let i = 0; i < 100 && (await replica.exists(key)) === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await replica.exists(key)).toBe(1);
  }

  it('serves a session GET from the replica and writes through the primary', async () => {
    const created = await t.http
      .post('/api/v1/sessions')
      .send({ session_config: { a: 1 }, created_by: 'u' })
      .expect(201);
    const id = created.body.session_id as string;
    await replicated(`${t.config.redis.keyPrefix}:{default}:session:${id}`);

    const [replicaBefore, primaryBefore] = [
      await calls(replica, 'hgetall'),
      await calls(primary, 'hgetall'),
    ];
    await t.http.get(`/api/v1/sessions/${id}`).expect(200);
    expect(await calls(replica, 'hgetall')).toBe(replicaBefore + 1);
    expect(await calls(primary, 'hgetall')).toBe(primaryBefore);

    // The CAS runs on the primary, so If-Match stays exact whatever the replica has seen.
    await t.http
      .put(`/api/v1/sessions/${id}`)
      .set('If-Match', '"1"')
      .send({ updates: { metadata: { step: 2 } } })
      .expect(200);
    await t.http
      .put(`/api/v1/sessions/${id}`)
      .set('If-Match', '"1"')
      .send({ updates: { metadata: { step: 3 } } })
      .expect(412);
  }, 30_000);

  it('serves a cache GET (a read-only script) from the replica', async () => {
    await t.http.post('/api/v1/cache/greeting').send({ data: 'hello' }).expect(201);
    await replicated(`${t.config.redis.keyPrefix}:{default}:cache:e:greeting`);
    const before = await calls(replica, 'evalsha_ro');
    const read = await t.http.get('/api/v1/cache/greeting').expect(200);
    expect(read.body.data).toBe('hello');
    expect(await calls(replica, 'evalsha_ro')).toBeGreaterThan(before);
  }, 30_000);
});
