import Redis from 'ioredis';
import { eventually } from '../support/eventually';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * SESSION_L1_CACHE=true on two replicas of the API sharing one Redis: GET /sessions/{id} may be
 * answered from a replica's memory, yet a write on the other replica reaches it as soon as Redis'
 * invalidation does, and If-Match stays exact.
 */
describe('GET /sessions/{id} with the session L1 cache on two replicas', () => {
  let redis: RedisServer;
  let raw: Redis;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.port, '127.0.0.1');
    const env = {
      SESSION_L1_CACHE: 'true',
      SESSION_L1_TTL_MS: '60000',
      // Stored compressed and encrypted: the L1 holds the decoded session, never the bytes.
      COMPRESSION_MIN_BYTES: '0',
      ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 5).toString('base64')}`,
    };
    a = await startTestApp(redis.url, env);
    b = await startTestApp(redis.url, env);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    raw.disconnect();
    await redis.dispose();
  });

  async function hgetalls(): Promise<number> {
    const stats = await raw.info('commandstats');
    return Number(/cmdstat_hgetall:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  }

  /** A's L1 is up once a repeated GET runs no HGETALL in Redis. */
  async function servedFromL1(path: string): Promise<void> {
    await eventually(async () => {
      await a.http.get(path).expect(200);
      const before = await hgetalls();
      await a.http.get(path).expect(200);
      expect(await hgetalls()).toBe(before);
    });
  }

  it("answers A's reads from its L1 until B writes, then shows B's write; If-Match stays exact", async () => {
    const created = await a.http
      .post('/api/v1/sessions')
      .send({ session_config: { step: 1 }, metadata: { note: 'first' }, created_by: 'user-1' })
      .expect(201);
    const id = (created.body as { session_id: string }).session_id;
    const path = `/api/v1/sessions/${id}`;
    await servedFromL1(path);

    const cached = await a.http.get(path).expect(200);
    expect(cached.headers.etag).toBe('"1"');
    expect(cached.body).toMatchObject({ version: 1, session_config: { step: 1 } });
    const head = await a.http.head(path).expect(200);
    expect(head.headers.etag).toBe('"1"');

    await b.http
      .put(path)
      .set('If-Match', cached.headers.etag)
      .send({ updates: { session_config: { step: 2 } } })
      .expect(200);

    await eventually(async () => {
      const fresh = await a.http.get(path).expect(200);
      expect(fresh.headers.etag).toBe('"2"');
      expect(fresh.body).toMatchObject({ version: 2, session_config: { step: 2 } });
    });

    // The ETag A served from its L1 is now stale: refused on either replica, as without the L1.
    for (const replica of [a, b]) {
      const refused = await replica.http
        .put(path)
        .set('If-Match', '"1"')
        .send({ updates: { status: 'running' } })
        .expect(412);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    await a.http
      .put(path)
      .set('If-Match', '"2"')
      .send({ updates: { status: 'running' } })
      .expect(200);
    // A's own write is visible to A's next read at once.
    const after = await a.http.get(path).expect(200);
    expect(after.body).toMatchObject({ version: 3, status: 'running' });
  });

  it('shows a delete on B to A as a 404', async () => {
    const created = await a.http
      .post('/api/v1/sessions')
      .send({ session_config: {}, metadata: {}, created_by: 'user-1' })
      .expect(201);
    const id = (created.body as { session_id: string }).session_id;
    const path = `/api/v1/sessions/${id}`;
    await servedFromL1(path);
    await b.http.delete(path).expect(200);
    await eventually(() => a.http.get(path).expect(404));
  });
});
