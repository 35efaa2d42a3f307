import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { SessionExpirySweeper } from '../../apps/api/src/sessions/session-expiry.sweeper';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

const PROBLEM = /application\/problem\+json/;

describe('Sessions API over HTTP', () => {
  let redis: RedisServer;
  let raw: Redis;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.port, '127.0.0.1');
    t = await startTestApp(redis.url, {
      SESSION_MAX_BYTES: '4096',
      SESSION_MAX_TTL_SECONDS: '86400',
      SESSION_TTL_SECONDS: '3600',
    });
  });

  afterAll(async () => {
    await t.close();
    raw.disconnect();
    await redis.dispose();
  });

  beforeEach(async () => {
    await raw.flushall();
  });

  /**
   * Tenant `default`'s data keys. Left out: the audit trail and change feed (they keep what happened
   * to a session after it is gone) and the usage counters, which a background flush writes after
   * any request was served, refused ones included.
   */
  async function storedSessionKeys(): Promise<string[]> {
    const keys = await raw.keys(`${t.config.redis.keyPrefix}:{default}:*`);
    return keys.filter((key) => !/:(audit|events|usage|rl)(:|$)/.test(key));
  }

  async function createSession(body: Record<string, unknown> = {}) {
    const response = await t.http
      .post('/api/v1/sessions')
      .send({ session_config: { agents: ['planner'] }, created_by: 'user-1', ...body })
      .expect(201);
    return response.body as { session_id: string; created_at: string; status: string };
  }

  describe('create and read', () => {
    it('creates a session and returns its id, Location and ETag', async () => {
      const response = await t.http
        .post('/api/v1/sessions')
        .send({
          session_config: { a: 1 },
          metadata: { m: true },
          created_by: 'user-1',
          ttl_seconds: 600,
        })
        .expect(201);

      expect(response.body).toEqual({
        session_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        created_at: expect.any(String),
        status: 'created',
        version: 1,
      });
      expect(response.headers.location).toBe(`/api/v1/sessions/${response.body.session_id}`);
      expect(response.headers.etag).toBe('"1"');

      const read = await t.http.get(response.headers.location).expect(200);
      expect(read.headers.etag).toBe('"1"');
      expect(read.body).toEqual({
        session_id: response.body.session_id,
        session_config: { a: 1 },
        metadata: { m: true },
        status: 'created',
        created_by: 'user-1',
        created_at: response.body.created_at,
        updated_at: response.body.created_at,
        expires_at: new Date(Date.parse(response.body.created_at) + 600_000).toISOString(),
        version: 1,
      });
    });

    it('uses the default TTL and an orchestrator-chosen status', async () => {
      const created = await createSession({ status: 'waiting_for-input' });
      const read = await t.http.get(`/api/v1/sessions/${created.session_id}`).expect(200);

      expect(read.body.status).toBe('waiting_for-input');
      expect(Date.parse(read.body.expires_at) - Date.parse(read.body.created_at)).toBe(3600_000);
    });

    it('answers 400 naming session_id for a malformed id and 404 for an unknown one', async () => {
      const bad = await t.http.get('/api/v1/sessions/not-a-uuid').expect(400);
      expect(bad.headers['content-type']).toMatch(PROBLEM);
      expect(bad.body.errors).toEqual([{ field: 'session_id', message: 'must be a UUID v4' }]);

      const unknown = await t.http.get(`/api/v1/sessions/${randomUUID()}`).expect(404);
      expect(unknown.headers['content-type']).toMatch(PROBLEM);
      expect(unknown.body).toMatchObject({
        status: 404,
        title: 'Not Found',
        type: 'urn:masa:problem:not-found',
      });
    });
  });

  describe('validation', () => {
    it.each([
      ['an unknown field', { session_config: {}, created_by: 'u', version: 9 }, 'version'],
      ['a missing created_by', { session_config: {} }, 'created_by'],
      ['an array as session_config', { session_config: [1], created_by: 'u' }, 'session_config'],
      [
        'a status outside the pattern',
        { session_config: {}, created_by: 'u', status: 'Bad Status' },
        'status',
      ],
      ['a TTL under 60 s', { session_config: {}, created_by: 'u', ttl_seconds: 59 }, 'ttl_seconds'],
      [
        'a TTL above SESSION_MAX_TTL_SECONDS',
        { session_config: {}, created_by: 'u', ttl_seconds: 86401 },
        'ttl_seconds',
      ],
      [
        'a fractional TTL',
        { session_config: {}, created_by: 'u', ttl_seconds: 61.5 },
        'ttl_seconds',
      ],
    ])('refuses %s with a 400 naming the field', async (_, body, field) => {
      const response = await t.http.post('/api/v1/sessions').send(body).expect(400);

      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await storedSessionKeys()).toEqual([]);
    });

    it('refuses JSON nested deeper than 32 levels', async () => {
      let deep: Record<string, unknown> = {};
      for (let i = 0; i < 32; i++) deep = { d: deep };
      const response = await t.http
        .post('/api/v1/sessions')
        .send({ session_config: deep, created_by: 'u' })
        .expect(400);
      expect(response.body.errors[0]).toMatchObject({ field: 'session_config' });

      let ok: Record<string, unknown> = {};
      for (let i = 0; i < 31; i++) ok = { d: ok };
      await t.http
        .post('/api/v1/sessions')
        .send({ session_config: ok, created_by: 'u' })
        .expect(201);
    });

    it('answers 413 when session_config + metadata exceed SESSION_MAX_BYTES, on create and on update', async () => {
      const big = { blob: 'x'.repeat(4096) };
      const response = await t.http
        .post('/api/v1/sessions')
        .send({ session_config: big, created_by: 'u' })
        .expect(413);
      expect(response.body.detail).toContain('4096');

      const created = await createSession({ session_config: { blob: 'x'.repeat(3000) } });
      await t.http
        .put(`/api/v1/sessions/${created.session_id}`)
        .send({ metadata: { blob: 'y'.repeat(1500) } })
        .expect(413);
    });

    it('answers 415 for a non-JSON body and 400 for malformed JSON, both as problem+json', async () => {
      const text = await t.http
        .post('/api/v1/sessions')
        .set('content-type', 'text/plain')
        .send('hi')
        .expect(415);
      expect(text.headers['content-type']).toMatch(PROBLEM);
      const broken = await t.http
        .post('/api/v1/sessions')
        .set('content-type', 'application/json')
        .send('{"session_config":')
        .expect(400);
      expect(broken.headers['content-type']).toMatch(PROBLEM);
    });
  });

  describe('update, status and optimistic concurrency', () => {
    it('replaces given fields, bumps the version and answers with a new ETag', async () => {
      const created = await createSession({ metadata: { keep: 1 } });

      const response = await t.http
        .put(`/api/v1/sessions/${created.session_id}`)
        .send({ session_config: { replaced: true }, status: 'running' })
        .expect(200);

      expect(response.body).toEqual({
        session_id: created.session_id,
        status: 'running',
        updated_at: expect.any(String),
        version: 2,
      });
      expect(response.headers.etag).toBe('"2"');
      const read = await t.http.get(`/api/v1/sessions/${created.session_id}`).expect(200);
      expect(read.body).toMatchObject({
        session_config: { replaced: true },
        metadata: { keep: 1 },
        status: 'running',
      });
    });

    it('refuses an empty update with 400', async () => {
      const created = await createSession();
      await t.http.put(`/api/v1/sessions/${created.session_id}`).send({}).expect(400);
    });

    it('answers 412 to a stale If-Match and applies a current one', async () => {
      const created = await createSession();
      const url = `/api/v1/sessions/${created.session_id}`;
      await t.http
        .put(url)
        .set('If-Match', '"1"')
        .send({ metadata: { n: 1 } })
        .expect(200);

      const stale = await t.http
        .put(url)
        .set('If-Match', '"1"')
        .send({ metadata: { n: 2 } })
        .expect(412);
      expect(stale.headers['content-type']).toMatch(PROBLEM);
      expect(stale.body.detail).toContain('current version is 2');
      await t.http
        .put(url)
        .set('If-Match', '"2"')
        .send({ metadata: { n: 3 } })
        .expect(200);
      await t.http
        .put(url)
        .set('If-Match', 'W/"3"')
        .send({ metadata: { n: 4 } })
        .expect(400);
      expect((await t.http.get(url)).body.metadata).toEqual({ n: 3 });
    });

    it('lets exactly one of parallel If-Match writers win over HTTP', async () => {
      const created = await createSession();
      const url = `/api/v1/sessions/${created.session_id}`;

      const statuses = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          t.http
            .put(url)
            .set('If-Match', '"1"')
            .send({ metadata: { writer: i } })
            .then((r) => r.status),
        ),
      );

      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 412)).toHaveLength(9);
    });

    it('changes and reads only the status, with If-Match', async () => {
      const created = await createSession();
      const url = `/api/v1/sessions/${created.session_id}/status`;

      const changed = await t.http
        .put(url)
        .send({ status: 'completed', updated_by: 'orch-1' })
        .expect(200);
      expect(changed.body).toEqual({
        session_id: created.session_id,
        status: 'completed',
        version: 2,
        updated_at: expect.any(String),
      });
      expect(changed.headers.etag).toBe('"2"');

      const read = await t.http.get(url).expect(200);
      expect(read.body).toEqual({
        session_id: created.session_id,
        status: 'completed',
        last_updated: changed.body.updated_at,
      });
      await t.http
        .put(url)
        .set('If-Match', '"1"')
        .send({ status: 'x', updated_by: 'orch-1' })
        .expect(412);
      await t.http.put(url).send({ status: 'NOPE', updated_by: 'orch-1' }).expect(400);
      await t.http
        .put(`/api/v1/sessions/${randomUUID()}/status`)
        .send({ status: 'x', updated_by: 'o' })
        .expect(404);
    });
  });

  describe('delete', () => {
    it('deletes once (200), then 404; a stale If-Match gets 412 and keeps the session', async () => {
      const created = await createSession();
      const url = `/api/v1/sessions/${created.session_id}`;

      await t.http.delete(url).set('If-Match', '"5"').expect(412);
      const deleted = await t.http.delete(url).set('If-Match', '"1"').expect(200);

      expect(deleted.body).toEqual({
        deleted: true,
        deleted_at: expect.any(String),
        memory_records_deleted: 0,
      });
      await t.http.get(url).expect(404);
      await t.http.delete(url).expect(404);
      expect(await storedSessionKeys()).toEqual([]);
    });
  });

  describe('list', () => {
    it('filters by creator and status (AND), pages by offset and reports has_more', async () => {
      for (const [creator, status] of [
        ['alice', 'running'],
        ['alice', 'done'],
        ['bob', 'running'],
        ['alice', 'running'],
      ]) {
        await createSession({ created_by: creator, status });
      }

      const aliceRunning = await t.http
        .get('/api/v1/sessions?created_by=alice&status=running&limit=1')
        .expect(200);
      expect(aliceRunning.body).toMatchObject({ total_count: 2, has_more: true });
      expect(aliceRunning.body.sessions).toHaveLength(1);
      expect(aliceRunning.body.sessions[0]).toMatchObject({
        created_by: 'alice',
        status: 'running',
      });

      const second = await t.http
        .get('/api/v1/sessions?created_by=alice&status=running&limit=1&offset=1')
        .expect(200);
      expect(second.body).toMatchObject({ total_count: 2, has_more: false, next_cursor: null });
      expect(second.body.sessions[0].session_id).not.toBe(aliceRunning.body.sessions[0].session_id);

      const running = await t.http.get('/api/v1/sessions?status=running').expect(200);
      expect(running.body.total_count).toBe(3);
      const all = await t.http.get('/api/v1/sessions').expect(200);
      expect(all.body.total_count).toBe(4);
    });

    it('sorts newest first by default and oldest first on request', async () => {
      const first = await createSession();
      await new Promise((r) => setTimeout(r, 5));
      const second = await createSession();

      const newest = await t.http.get('/api/v1/sessions').expect(200);
      const oldest = await t.http.get('/api/v1/sessions?sort=created_at').expect(200);

      expect(newest.body.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([
        second.session_id,
        first.session_id,
      ]);
      expect(oldest.body.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([
        first.session_id,
        second.session_id,
      ]);
    });

    it('bounds created_at with created_after (inclusive) and created_before (exclusive)', async () => {
      const early = await createSession();
      await new Promise((r) => setTimeout(r, 5));
      const late = await createSession();

      const after = await t.http
        .get(`/api/v1/sessions?created_after=${encodeURIComponent(late.created_at)}`)
        .expect(200);
      const before = await t.http
        .get(`/api/v1/sessions?created_before=${encodeURIComponent(late.created_at)}`)
        .expect(200);

      expect(after.body.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([
        late.session_id,
      ]);
      expect(before.body.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([
        early.session_id,
      ]);
    });

    it('walks all pages by cursor without repeats', async () => {
      await t.http
        .post('/api/v1/sessions/batch')
        .send({
          sessions: Array.from({ length: 23 }, () => ({ session_config: {}, created_by: 'bulk' })),
        })
        .expect(201);
      const seen = new Set<string>();
      let url = '/api/v1/sessions?created_by=bulk&limit=5';
      let pages = 0;
      for (;;) {
        const page = await t.http.get(url).expect(200);
        pages++;
        expect(page.body.total_count).toBe(23);
        for (const s of page.body.sessions as { session_id: string }[]) seen.add(s.session_id);
        if (!page.body.has_more) break;
        url = `/api/v1/sessions?created_by=bulk&limit=5&cursor=${page.body.next_cursor}`;
      }
      expect(pages).toBe(5);
      expect(seen.size).toBe(23);
    });

    it.each([
      ['limit=101', 'limit'],
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['offset=-1', 'offset'],
      ['sort=name', 'sort'],
      ['created_after=yesterday', 'created_after'],
      ['status=Not%20Valid', 'status'],
      ['unknown=1', 'unknown'],
      ['cursor=garbage', 'cursor'],
    ])('refuses %s with a 400 naming %s', async (query, field) => {
      const response = await t.http.get(`/api/v1/sessions?${query}`).expect(400);
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it('refuses a cursor together with offset, and a cursor replayed with other filters', async () => {
      await t.http
        .post('/api/v1/sessions/batch')
        .send({ sessions: [1, 2, 3].map(() => ({ session_config: {}, created_by: 'c' })) })
        .expect(201);
      const page = await t.http.get('/api/v1/sessions?limit=1').expect(200);
      const cursor = page.body.next_cursor as string;

      const withOffset = await t.http
        .get(`/api/v1/sessions?limit=1&offset=1&cursor=${cursor}`)
        .expect(400);
      expect(withOffset.body.errors[0].field).toBe('offset');
      const otherFilter = await t.http
        .get(`/api/v1/sessions?limit=1&status=x&cursor=${cursor}`)
        .expect(400);
      expect(otherFilter.body.errors[0].field).toBe('cursor');
    });

    it('hides expired sessions from lists and counts, and the sweeper clears their index entries', async () => {
      const doomed = await createSession({ created_by: 'exp' });
      const kept = await createSession({ created_by: 'exp' });
      // Let time pass for one session: move its expiry into the past, as Redis would see it.
      const prefix = `${t.config.redis.keyPrefix}:{default}:`;
      await raw.pexpire(`${prefix}session:${doomed.session_id}`, 1);
      await raw.zadd(`${prefix}sessions:expiry`, Date.now() - 1000, doomed.session_id);
      await new Promise((r) => setTimeout(r, 10));

      await t.http.get(`/api/v1/sessions/${doomed.session_id}`).expect(404);
      await t.app.get(SessionExpirySweeper).sweep();
      expect(await raw.zscore(`${prefix}sessions`, doomed.session_id)).toBeNull();
      const list = await t.http.get('/api/v1/sessions?created_by=exp').expect(200);
      expect(list.body.total_count).toBe(1);
      expect(list.body.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([
        kept.session_id,
      ]);
    });
  });

  describe('batch', () => {
    it('creates up to 100 sessions in one request', async () => {
      const response = await t.http
        .post('/api/v1/sessions/batch')
        .send({
          sessions: Array.from({ length: 100 }, (_, i) => ({
            session_config: { i },
            created_by: 'b',
            status: 'queued',
          })),
        })
        .expect(201);

      expect(response.body.sessions).toHaveLength(100);
      expect(response.body.sessions[0]).toEqual({
        session_id: expect.any(String),
        created_at: expect.any(String),
        status: 'queued',
        version: 1,
      });
      expect((await t.http.get('/api/v1/sessions?status=queued')).body.total_count).toBe(100);
    });

    it('validates all or nothing: one bad item means nothing is created', async () => {
      const response = await t.http
        .post('/api/v1/sessions/batch')
        .send({
          sessions: [
            { session_config: {}, created_by: 'ok' },
            { session_config: {}, created_by: '' },
          ],
        })
        .expect(400);

      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(
        'sessions.1.created_by',
      );
      expect((await t.http.get('/api/v1/sessions')).body.total_count).toBe(0);
    });

    it('refuses more than 100 sessions or an empty batch', async () => {
      const tooMany = Array.from({ length: 101 }, () => ({ session_config: {}, created_by: 'b' }));
      await t.http.post('/api/v1/sessions/batch').send({ sessions: tooMany }).expect(400);
      await t.http.post('/api/v1/sessions/batch').send({ sessions: [] }).expect(400);
    });

    it('reads and deletes many, reporting the missing ones', async () => {
      const a = await createSession();
      const b = await createSession();
      const ghost = randomUUID();

      const got = await t.http
        .post('/api/v1/sessions/batch-get')
        .send({ session_ids: [a.session_id, ghost, b.session_id] })
        .expect(200);
      expect(got.body.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([
        a.session_id,
        b.session_id,
      ]);
      expect(got.body.missing).toEqual([ghost]);

      const deleted = await t.http
        .post('/api/v1/sessions/batch-delete')
        .send({ session_ids: [a.session_id, ghost] })
        .expect(200);
      expect(deleted.body).toEqual({
        deleted: [a.session_id],
        missing: [ghost],
        memory_records_deleted: 0,
      });
      await t.http.get(`/api/v1/sessions/${a.session_id}`).expect(404);
      await t.http.get(`/api/v1/sessions/${b.session_id}`).expect(200);
    });

    it('refuses malformed or duplicate ids in batch-get and batch-delete', async () => {
      const bad = await t.http
        .post('/api/v1/sessions/batch-get')
        .send({ session_ids: ['nope'] })
        .expect(400);
      expect(bad.body.errors[0].field).toBe('session_ids');
      const id = randomUUID();
      await t.http
        .post('/api/v1/sessions/batch-delete')
        .send({ session_ids: [id, id] })
        .expect(400);
    });
  });

  describe('request ids and errors', () => {
    it('echoes a well-formed X-Request-Id and puts it in problem bodies', async () => {
      const response = await t.http
        .get(`/api/v1/sessions/${randomUUID()}`)
        .set('X-Request-Id', 'trace-123')
        .expect(404);
      expect(response.headers['x-request-id']).toBe('trace-123');
      expect(response.body.request_id).toBe('trace-123');
    });

    it('mints a request id when none (or a malformed one) is given', async () => {
      const none = await t.http.get('/api/v1/sessions').expect(200);
      const hostile = await t.http
        .get('/api/v1/sessions')
        .set('X-Request-Id', 'bad id\twith spaces')
        .expect(200);
      expect(none.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('answers unknown routes with a problem+json 404', async () => {
      const response = await t.http.get('/api/v1/nothing-here').expect(404);
      expect(response.headers['content-type']).toMatch(PROBLEM);
    });
  });

  describe('documentation', () => {
    it('serves Swagger UI and an OpenAPI document listing every session route', async () => {
      await t.http.get('/docs').expect(200);
      const doc = await t.http.get('/docs-json').expect(200);
      expect(Object.keys(doc.body.paths)).toEqual(
        expect.arrayContaining([
          '/api/v1/sessions',
          '/api/v1/sessions/batch',
          '/api/v1/sessions/batch-get',
          '/api/v1/sessions/batch-delete',
          '/api/v1/sessions/{session_id}',
          '/api/v1/sessions/{session_id}/status',
        ]),
      );
      expect(doc.body.paths['/api/v1/sessions/{session_id}'].put.responses).toHaveProperty('412');
    });
  });

  describe('when Redis is down', () => {
    it('answers 503 problem+json quickly, fails readiness, and recovers by itself', async () => {
      const created = await createSession();
      await redis.stop();

      const started = Date.now();
      const down = await t.http.get(`/api/v1/sessions/${created.session_id}`).expect(503);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(down.headers['content-type']).toMatch(PROBLEM);
      expect(down.headers['retry-after']).toBe('1');
      expect(down.body.detail).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|masa:/);
      await t.http
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'u' })
        .expect(503);
      await t.http.get('/api/v1/health/ready').expect(503);
      await t.http.get('/api/v1/health').expect(503);
      await t.http.get('/api/v1/health/live').expect(200);

      await redis.restart();
      let status = 0;
      for (let i = 0; i < 50 && status !== 201; i++) {
        status = (
          await t.http.post('/api/v1/sessions').send({ session_config: {}, created_by: 'u' })
        ).status;
        if (status !== 201) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(201);
      await t.http.get('/api/v1/health/ready').expect(200);
      const detailed = await t
        .as({ sub: 'analyst-1', roles: ['analyst'] })
        .get('/api/v1/health/detailed')
        .expect(200);
      // Reachable again (a PING over 100 ms on a loaded machine reads as degraded, not down).
      expect(['healthy', 'degraded']).toContain(detailed.body.status);
      expect(['healthy', 'degraded']).toContain(detailed.body.components.redis.status);
      await raw.ping();
    });
  });
});
