import Redis from 'ioredis';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

const MERGE_PATCH = 'application/merge-patch+json';

/**
 * PUT /sessions/{id} with the plan's `{"updates": {...}}` and PATCH with merge-patch+json: RFC 7396
 * on payloads stored gzipped and encrypted, If-Match, and no lost update under concurrency.
 */
describe('Session updates as the plan writes them (RFC 7396)', () => {
  let redis: RedisServer;
  let raw: Redis;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.port, '127.0.0.1');
    t = await startTestApp(redis.url, {
      // Every payload compressed and encrypted: a merge cannot be done on the stored bytes.
      COMPRESSION_MIN_BYTES: '0',
      ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 3).toString('base64')}`,
      SESSION_MAX_BYTES: '4096',
    });
  });

  afterAll(async () => {
    await t.close();
    raw.disconnect();
    await redis.dispose();
  });

  async function createSession(): Promise<string> {
    const response = await t.http
      .post('/api/v1/sessions')
      .send({
        session_config: { agents: ['planner'], max_turns: 20, limits: { tokens: 1000, depth: 3 } },
        metadata: { project: 'apollo', priority: 'high' },
        created_by: 'user-1',
      })
      .expect(201);
    return (response.body as { session_id: string }).session_id;
  }

  const read = async (id: string) =>
    (await t.http.get(`/api/v1/sessions/${id}`).expect(200)).body as Record<string, unknown>;

  it('accepts the request exactly as the plan shows it and merges by RFC 7396', async () => {
    const id = await createSession();
    const response = await t.http
      .put(`/api/v1/sessions/${id}`)
      .send({
        updates: {
          session_config: { max_turns: 30, limits: { depth: null, retries: 2 } },
          metadata: { priority: null, owner: 'team-a' },
          status: 'running',
        },
      })
      .expect(200);
    expect(response.body).toMatchObject({ session_id: id, version: 2 });
    expect(response.headers.etag).toBe('"2"');

    const session = await read(id);
    expect(session.session_config).toEqual({
      agents: ['planner'],
      max_turns: 30,
      limits: { tokens: 1000, retries: 2 },
    });
    expect(session.metadata).toEqual({ project: 'apollo', owner: 'team-a' });
    expect(session.status).toBe('running');
    // Stored encoded: the merge really went through the codecs.
    const stored = await raw.hget(`${t.config.redis.keyPrefix}:{default}:session:${id}`, 'config');
    expect(stored).toMatch(/^v1:/);
  });

  it('replaces arrays and leaves objects not named untouched', async () => {
    const id = await createSession();
    await t.http
      .put(`/api/v1/sessions/${id}`)
      .send({ updates: { session_config: { agents: ['critic'] } } })
      .expect(200);
    const session = await read(id);
    expect(session.session_config).toMatchObject({ agents: ['critic'], max_turns: 20 });
    expect(session.metadata).toEqual({ project: 'apollo', priority: 'high' });
  });

  it('keeps the top-level form as an alias that replaces the object whole', async () => {
    const id = await createSession();
    await t.http
      .put(`/api/v1/sessions/${id}`)
      .send({ metadata: { only: true } })
      .expect(200);
    expect((await read(id)).metadata).toEqual({ only: true });
  });

  it('refuses both forms at once, an empty update and unknown members of updates', async () => {
    const id = await createSession();
    const both = await t.http
      .put(`/api/v1/sessions/${id}`)
      .send({ updates: { status: 'x' }, status: 'y' })
      .expect(400);
    expect(both.body.errors).toEqual([
      { field: 'body', message: expect.stringContaining('not both') },
    ]);
    const empty = await t.http.put(`/api/v1/sessions/${id}`).send({ updates: {} }).expect(400);
    expect(empty.body.errors[0].field).toBe('updates');
    const unknown = await t.http
      .put(`/api/v1/sessions/${id}`)
      .send({ updates: { created_by: 'mallory' } })
      .expect(400);
    expect(JSON.stringify(unknown.body.errors)).toContain('created_by');
    const notObject = await t.http
      .put(`/api/v1/sessions/${id}`)
      .send({ updates: { metadata: [1] } })
      .expect(400);
    expect(notObject.body.errors[0].field).toBe('updates.metadata');
    expect((await read(id)).version).toBe(1);
  });

  it('honours If-Match: a stale version gets 412 and nothing is merged', async () => {
    const id = await createSession();
    await t.http
      .put(`/api/v1/sessions/${id}`)
      .set('If-Match', '"1"')
      .send({ updates: { metadata: { a: 1 } } })
      .expect(200);
    await t.http
      .put(`/api/v1/sessions/${id}`)
      .set('If-Match', '"1"')
      .send({ updates: { metadata: { b: 2 } } })
      .expect(412);
    expect((await read(id)).metadata).toEqual({ project: 'apollo', priority: 'high', a: 1 });
  });

  it('answers 404 for an unknown session and 413 when the merged result is too large', async () => {
    await t.http
      .put('/api/v1/sessions/3f1c2a9e-8b7d-4c6e-9f01-23456789abcd')
      .send({ updates: { metadata: { a: 1 } } })
      .expect(404);
    const id = await createSession();
    await t.http
      .put(`/api/v1/sessions/${id}`)
      .send({ updates: { metadata: { big: 'x'.repeat(5000) } } })
      .expect(413);
  });

  it('loses no update when 20 callers merge different keys at the same time', async () => {
    const id = await createSession();
    const writers = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0
        ? t.http.put(`/api/v1/sessions/${id}`).send({
            updates: { metadata: { [`k${i}`]: i }, session_config: { limits: { [`l${i}`]: i } } },
          })
        : t.http
            .patch(`/api/v1/sessions/${id}`)
            .set('Content-Type', MERGE_PATCH)
            .send(
              JSON.stringify({
                metadata: { [`k${i}`]: i },
                session_config: { limits: { [`l${i}`]: i } },
              }),
            ),
    );
    const responses = await Promise.all(writers);
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    const session = await read(id);
    for (let i = 0; i < 20; i++) {
      expect(session.metadata).toHaveProperty(`k${i}`, i);
      expect((session.session_config as { limits: object }).limits).toHaveProperty(`l${i}`, i);
    }
    expect(session.version).toBe(21);
  });

  describe('PATCH /sessions/{id} (application/merge-patch+json)', () => {
    it('merges the representation and returns the new ETag', async () => {
      const id = await createSession();
      const response = await t.http
        .patch(`/api/v1/sessions/${id}`)
        .set('Content-Type', MERGE_PATCH)
        .set('If-Match', '"1"')
        .send(JSON.stringify({ session_config: { max_turns: null }, status: 'paused' }))
        .expect(200);
      expect(response.headers.etag).toBe('"2"');
      const session = await read(id);
      expect(session.session_config).not.toHaveProperty('max_turns');
      expect(session.status).toBe('paused');
    });

    it('refuses read-only and unknown members, naming them', async () => {
      const id = await createSession();
      const response = await t.http
        .patch(`/api/v1/sessions/${id}`)
        .set('Content-Type', MERGE_PATCH)
        .send(JSON.stringify({ version: 9, created_by: 'x', colour: 'red', metadata: null }))
        .expect(400);
      expect(response.body.errors).toEqual([
        { field: 'version', message: expect.stringContaining('read-only') },
        { field: 'created_by', message: expect.stringContaining('read-only') },
        { field: 'colour', message: expect.stringContaining('not a field of the session') },
        { field: 'metadata', message: expect.stringContaining('cannot be removed') },
      ]);
    });

    it('wants application/merge-patch+json', async () => {
      const id = await createSession();
      await t.http.patch(`/api/v1/sessions/${id}`).send({ status: 'x' }).expect(415);
    });
  });
});
