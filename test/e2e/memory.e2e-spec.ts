import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { MemoryExpirySweeper } from '../../apps/api/src/memory/memory-expiry.sweeper';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

const PROBLEM = /application\/problem\+json/;
const MERGE = 'application/merge-patch+json';

describe('Agent memory API over HTTP', () => {
  let redis: RedisServer;
  let raw: Redis;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.port, '127.0.0.1');
    t = await startTestApp(redis.url, { MEMORY_TTL_SECONDS: '7200', MEMORY_MAX_BYTES: '4096' });
  });

  afterAll(async () => {
    await t.close();
    raw.disconnect();
    await redis.dispose();
  });

  beforeEach(async () => {
    await raw.flushall();
  });

  const prefix = () => `${t.config.redis.keyPrefix}:{default}:`;

  async function newSession(): Promise<string> {
    const response = await t.http
      .post('/api/v1/sessions')
      .send({ session_config: {}, created_by: 'user-1' })
      .expect(201);
    return (response.body as { session_id: string }).session_id;
  }

  async function createMemory(
    agentId: string,
    sessionId: string,
    body: Record<string, unknown> = {},
  ) {
    const response = await t.http
      .post(`/api/v1/agents/${agentId}/memory`)
      .send({
        session_id: sessionId,
        memory_data: { step: 1 },
        memory_type: 'working',
        created_by: 'orch-1',
        ...body,
      })
      .expect(201);
    return response.body as {
      memory_id: string;
      agent_id: string;
      session_id: string;
      created_at: string;
    };
  }

  describe('create and read', () => {
    it('creates a record (201, Location, ETag) and reads it back with its ETag', async () => {
      const sessionId = await newSession();
      const response = await t.http
        .post('/api/v1/agents/planner-1/memory')
        .send({
          session_id: sessionId,
          memory_data: { goal: 'ship' },
          memory_type: 'persistent',
          created_by: 'orch-1',
        })
        .expect(201);
      expect(response.body).toEqual({
        memory_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        agent_id: 'planner-1',
        session_id: sessionId,
        version: 1,
        created_at: expect.any(String),
      });
      expect(response.headers.location).toBe(`/api/v1/agents/planner-1/memory/${sessionId}`);
      expect(response.headers.etag).toBe('"1"');

      const read = await t.http.get(response.headers.location).expect(200);
      expect(read.headers.etag).toBe('"1"');
      expect(read.body).toEqual({
        memory_id: response.body.memory_id,
        agent_id: 'planner-1',
        session_id: sessionId,
        memory_data: { goal: 'ship' },
        memory_type: 'persistent',
        created_by: 'orch-1',
        created_at: response.body.created_at,
        updated_at: response.body.created_at,
        expires_at: new Date(Date.parse(response.body.created_at) + 7200_000).toISOString(),
        version: 1,
      });
    });

    it('answers 404 for a session that does not exist (or belongs to another tenant)', async () => {
      const other = await t
        .as({ sub: 'orch-x', roles: ['orchestrator'], tenant: 'other' })
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'u' })
        .expect(201);
      for (const sessionId of [randomUUID(), other.body.session_id as string]) {
        const response = await t.http
          .post('/api/v1/agents/a1/memory')
          .send({ session_id: sessionId, memory_data: {}, memory_type: 'working', created_by: 'o' })
          .expect(404);
        expect(response.headers['content-type']).toMatch(PROBLEM);
      }
    });

    it('answers 409 to a second record for the same agent and session', async () => {
      const sessionId = await newSession();
      const first = await createMemory('a1', sessionId);
      const again = await t.http
        .post('/api/v1/agents/a1/memory')
        .send({ session_id: sessionId, memory_data: {}, memory_type: 'working', created_by: 'o' })
        .expect(409);
      expect(again.body.detail).toContain(first.memory_id);
    });

    it('validates agent_id, session_id, memory_type and memory_data with 400s naming the field', async () => {
      const sessionId = await newSession();
      const badAgent = await t.http.get(`/api/v1/agents/-bad%20id/memory/${sessionId}`).expect(400);
      expect(badAgent.body.errors).toEqual([expect.objectContaining({ field: 'agent_id' })]);
      const badSession = await t.http.get('/api/v1/agents/a1/memory/not-a-uuid').expect(400);
      expect(badSession.body.errors).toEqual([expect.objectContaining({ field: 'session_id' })]);

      const body = await t.http
        .post('/api/v1/agents/a1/memory')
        .send({ session_id: 'x', memory_data: [1], memory_type: 'For ever', created_by: 'o' })
        .expect(400);
      expect((body.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual([
        'memory_data',
        'memory_type',
        'session_id',
      ]);
    });

    it('answers 413 when memory_data exceeds MEMORY_MAX_BYTES', async () => {
      const sessionId = await newSession();
      await t.http
        .post('/api/v1/agents/a1/memory')
        .send({
          session_id: sessionId,
          memory_data: { big: 'x'.repeat(5000) },
          memory_type: 'working',
          created_by: 'o',
        })
        .expect(413);
    });

    it('answers 404 for a record that does not exist', async () => {
      await t.http.get(`/api/v1/agents/a1/memory/${randomUUID()}`).expect(404);
    });
  });

  describe('update, merge patch and delete', () => {
    it('replaces with PUT, honours If-Match (412 on stale) and resets the TTL', async () => {
      const sessionId = await newSession();
      await createMemory('a1', sessionId);
      const path = `/api/v1/agents/a1/memory/${sessionId}`;

      const updated = await t.http
        .put(path)
        .set('If-Match', '"1"')
        .send({ memory_data: { fresh: true }, memory_type: 'shared', updated_by: 'orch-2' })
        .expect(200);
      expect(updated.body).toEqual({
        memory_id: expect.any(String),
        updated_at: expect.any(String),
        version: 2,
      });
      expect(updated.headers.etag).toBe('"2"');
      await t.http.put(path).set('If-Match', '"1"').send({ memory_type: 'working' }).expect(412);
      await t.http.put(path).send({ updated_by: 'x' }).expect(400);

      const read = await t.http.get(path).expect(200);
      expect(read.body).toMatchObject({
        memory_data: { fresh: true },
        memory_type: 'shared',
        version: 2,
      });
      expect(Date.parse(read.body.expires_at) - Date.parse(read.body.updated_at)).toBe(7200_000);
    });

    it('merges with PATCH (RFC 7396) and refuses other content types with 415', async () => {
      const sessionId = await newSession();
      await createMemory('a1', sessionId, { memory_data: { keep: 1, drop: 2, nested: { a: 1 } } });
      const path = `/api/v1/agents/a1/memory/${sessionId}`;

      const patched = await t.http
        .patch(path)
        .set('Content-Type', MERGE)
        .send(JSON.stringify({ memory_data: { drop: null, nested: { b: 2 }, added: [1] } }))
        .expect(200);
      expect(patched.body.version).toBe(2);
      expect(patched.headers.etag).toBe('"2"');
      const read = await t.http.get(path).expect(200);
      expect(read.body.memory_data).toEqual({ keep: 1, nested: { a: 1, b: 2 }, added: [1] });

      await t.http.patch(path).send({ x: 1 }).expect(415);
      await t.http.patch(path).set('Content-Type', MERGE).send('[1,2]').expect(400);
      await t.http
        .patch(path)
        .set('Content-Type', MERGE)
        .set('If-Match', '"1"')
        .send('{"memory_data":{"x":1}}')
        .expect(412);
      await t.http
        .patch(`/api/v1/agents/a1/memory/${randomUUID()}`)
        .set('Content-Type', MERGE)
        .send('{"memory_data":{"x":1}}')
        .expect(404);
    });

    it('keeps every key when 20 agents patch different keys at the same time', async () => {
      const sessionId = await newSession();
      await createMemory('a1', sessionId, { memory_data: {} });
      const path = `/api/v1/agents/a1/memory/${sessionId}`;

      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          t.http
            .patch(path)
            .set('Content-Type', MERGE)
            .send(
              JSON.stringify({
                memory_data: { [`agent_${i}`]: { note: i }, shared: { [`k${i}`]: i } },
              }),
            ),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
      const read = await t.http.get(path).expect(200);
      for (let i = 0; i < 20; i++) {
        expect(read.body.memory_data[`agent_${i}`]).toEqual({ note: i });
        expect(read.body.memory_data.shared[`k${i}`]).toBe(i);
      }
      expect(read.body.version).toBe(21);
    });

    it('deletes once (200), then 404; a stale If-Match gets 412', async () => {
      const sessionId = await newSession();
      await createMemory('a1', sessionId);
      const path = `/api/v1/agents/a1/memory/${sessionId}`;

      await t.http.delete(path).set('If-Match', '"7"').expect(412);
      const deleted = await t.http.delete(path).expect(200);
      expect(deleted.body).toEqual({ deleted: true, deleted_at: expect.any(String) });
      await t.http.delete(path).expect(404);
      await t.http.get(path).expect(404);
      expect(await raw.keys(`${prefix()}memory*`)).toEqual([]);
    });
  });

  describe('lists and cross-agent queries', () => {
    it("lists an agent's records newest first, filtered, paged by offset and by cursor", async () => {
      const sessions: string[] = [];
      for (let i = 0; i < 5; i++) {
        sessions.push(await newSession());
        await createMemory('lister', sessions[i], {
          memory_type: i % 2 ? 'persistent' : 'working',
          memory_data: { i },
        });
      }
      const first = await t.http.get('/api/v1/agents/lister/memory?limit=2').expect(200);
      expect(first.body).toMatchObject({ total_count: 5, has_more: true });
      expect(
        first.body.memory_records.map((r: { memory_data: { i: number } }) => r.memory_data.i),
      ).toEqual([4, 3]);

      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `limit=2&cursor=${cursor}` : 'limit=2';
        const page = await t.http.get(`/api/v1/agents/lister/memory?${query}`).expect(200);
        seen.push(
          ...page.body.memory_records.map((r: { memory_data: { i: number } }) => r.memory_data.i),
        );
        cursor = page.body.next_cursor as string | null;
      } while (cursor);
      expect(seen).toEqual([4, 3, 2, 1, 0]);

      const persistent = await t.http
        .get('/api/v1/agents/lister/memory?memory_type=persistent&offset=1')
        .expect(200);
      expect(persistent.body).toMatchObject({ total_count: 2, has_more: false, next_cursor: null });
      expect(persistent.body.memory_records).toHaveLength(1);

      const future = await t.http
        .get('/api/v1/agents/lister/memory?created_after=2999-01-01T00:00:00Z')
        .expect(200);
      expect(future.body.total_count).toBe(0);
      await t.http
        .get(`/api/v1/agents/lister/memory?cursor=${first.body.next_cursor}&offset=1`)
        .expect(400);
    });

    it('answers /memory/sessions/{id} and /memory/agents with exact totals', async () => {
      const s1 = await newSession();
      const s2 = await newSession();
      await createMemory('a', s1);
      await createMemory('b', s1, { memory_type: 'shared' });
      await createMemory('b', s2);

      const bySession = await t.http.get(`/api/v1/memory/sessions/${s1}`).expect(200);
      expect(bySession.body.session_id).toBe(s1);
      expect(bySession.body.total_agents).toBe(2);
      expect(
        bySession.body.agent_memories.map((m: { agent_id: string }) => m.agent_id).sort(),
      ).toEqual(['a', 'b']);

      const byAgents = await t.http.get('/api/v1/memory/agents?agent_ids=b&limit=1').expect(200);
      expect(byAgents.body.total_count).toBe(2);
      expect(byAgents.body.memory_records).toHaveLength(1);

      const pairs = await t.http
        .get(`/api/v1/memory/agents?agent_ids=a,b&session_ids=${s2}`)
        .expect(200);
      expect(pairs.body.memory_records.map((m: { agent_id: string }) => m.agent_id)).toEqual(['b']);

      const shared = await t.http
        .get(`/api/v1/memory/agents?session_ids=${s1},${s2}&memory_type=shared`)
        .expect(200);
      expect(shared.body.total_count).toBe(1);

      await t.http.get('/api/v1/memory/agents').expect(400);
      const tooMany = Array.from({ length: 101 }, (_, i) => `a${i}`).join(',');
      await t.http.get(`/api/v1/memory/agents?agent_ids=${tooMany}`).expect(400);
      await t.http.get('/api/v1/memory/agents?session_ids=nope').expect(400);
    });

    it('pages the memory of a session like every list: limit, offset, cursor, exact total', async () => {
      const sessionId = await newSession();
      const agents = ['p1', 'p2', 'p3', 'p4', 'p5'];
      for (const agent of agents) await createMemory(agent, sessionId);
      const path = `/api/v1/memory/sessions/${sessionId}`;

      const first = await t.http.get(`${path}?limit=2`).expect(200);
      expect(first.body).toMatchObject({
        session_id: sessionId,
        total_agents: 5,
        total_count: 5,
        has_more: true,
        next_cursor: expect.any(String),
      });
      expect(first.body.agent_memories).toHaveLength(2);

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `limit=2&cursor=${cursor}` : 'limit=2';
        const page = await t.http.get(`${path}?${query}`).expect(200);
        expect(page.body.total_count).toBe(5);
        seen.push(...page.body.agent_memories.map((m: { agent_id: string }) => m.agent_id));
        cursor = page.body.next_cursor as string | null;
      } while (cursor);
      expect([...seen].sort()).toEqual(agents);
      expect(new Set(seen).size).toBe(5);

      const last = await t.http.get(`${path}?limit=2&offset=4`).expect(200);
      expect(last.body).toMatchObject({ total_count: 5, has_more: false, next_cursor: null });
      expect(last.body.agent_memories.map((m: { agent_id: string }) => m.agent_id)).toEqual([
        seen[4],
      ]);
      await t.http.get(`${path}?cursor=${first.body.next_cursor}&offset=1`).expect(400);
      // A cursor of another list is refused rather than silently misread.
      const across = await t.http.get(`/api/v1/memory/agents?agent_ids=p1,p2&limit=1`).expect(200);
      expect(across.body).toMatchObject({ total_count: 2, has_more: true });
      await t.http.get(`${path}?cursor=${across.body.next_cursor}`).expect(400);
      const rest = await t.http
        .get(`/api/v1/memory/agents?agent_ids=p1,p2&limit=1&cursor=${across.body.next_cursor}`)
        .expect(200);
      expect(rest.body).toMatchObject({ total_count: 2, has_more: false, next_cursor: null });
      expect(rest.body.memory_records[0].agent_id).not.toBe(across.body.memory_records[0].agent_id);
    });

    it('shows when a record really disappears: its session’s expiry when that comes first', async () => {
      const short = await t.http
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'user-1', ttl_seconds: 120 })
        .expect(201);
      const sessionId = short.body.session_id as string;
      await createMemory('mortal', sessionId);
      const session = await t.http.get(`/api/v1/sessions/${sessionId}`).expect(200);
      const record = await t.http.get(`/api/v1/agents/mortal/memory/${sessionId}`).expect(200);
      expect(record.body.expires_at).toBe(session.body.expires_at);
      const listed = await t.http.get(`/api/v1/memory/sessions/${sessionId}`).expect(200);
      expect(listed.body.agent_memories[0].expires_at).toBe(session.body.expires_at);
    });

    it('never shows another tenant’s records', async () => {
      const sessionId = await newSession();
      await createMemory('a', sessionId);
      const other = t.as({ sub: 'orch-x', roles: ['orchestrator'], tenant: 'other' });
      await other.get(`/api/v1/agents/a/memory/${sessionId}`).expect(404);
      // The session is not theirs: 404, like GET /sessions/{id}.
      await other.get(`/api/v1/memory/sessions/${sessionId}`).expect(404);
      expect((await other.get('/api/v1/agents/a/memory').expect(200)).body.total_count).toBe(0);
    });
  });

  describe('lifecycle', () => {
    it('removes the session’s memory with DELETE /sessions/{id} and reports how many', async () => {
      const doomed = await newSession();
      const kept = await newSession();
      await createMemory('a', doomed);
      await createMemory('b', doomed, { memory_type: 'shared' });
      await createMemory('a', kept);

      const deleted = await t.http.delete(`/api/v1/sessions/${doomed}`).expect(200);
      expect(deleted.body).toMatchObject({ deleted: true, memory_records_deleted: 2 });
      await t.http.get(`/api/v1/agents/a/memory/${doomed}`).expect(404);
      await t.http.get(`/api/v1/sessions/${doomed}`).expect(404);
      const gone = await t.http.get(`/api/v1/memory/sessions/${doomed}`).expect(404);
      expect(gone.body.detail).toBe(`session ${doomed} was not found`);
      expect((await t.http.get('/api/v1/agents/a/memory').expect(200)).body.total_count).toBe(1);
      expect((await raw.keys(`${prefix()}memory*`)).filter((key) => key.includes(doomed))).toEqual(
        [],
      );

      const batch = await t.http
        .post('/api/v1/sessions/batch-delete')
        .send({ session_ids: [kept] })
        .expect(200);
      expect(batch.body.memory_records_deleted).toBe(1);
    });

    it('hides expired records from reads, lists, counts and total_agents; the sweeper clears them', async () => {
      const sessionId = await newSession();
      await createMemory('old', sessionId);
      await createMemory('young', sessionId);
      // Let time pass for one record, as Redis would see it.
      const member = `old:${sessionId}`;
      for (const kind of ['rec', 'data', 'size'])
        await raw.pexpire(`${prefix()}memory:${kind}:${member}`, 1);
      await raw.zadd(`${prefix()}memory:expiry`, Date.now() - 1000, member);
      await new Promise((resolve) => setTimeout(resolve, 20));

      await t.http.get(`/api/v1/agents/old/memory/${sessionId}`).expect(404);
      expect(await t.app.get(MemoryExpirySweeper).sweep()).toBe(1);
      expect(await raw.zscore(`${prefix()}memory:session:${sessionId}`, 'old')).toBeNull();
      const bySession = await t.http.get(`/api/v1/memory/sessions/${sessionId}`).expect(200);
      expect(bySession.body.total_agents).toBe(1);
      expect((await t.http.get('/api/v1/agents/old/memory').expect(200)).body.total_count).toBe(0);
    });
  });

  describe('when the session expires', () => {
    it('hides its memory from reads, writes, lists and queries at once, then purges it', async () => {
      const sessionId = await newSession();
      const other = await newSession();
      await createMemory('a', sessionId);
      await createMemory('a', other);
      // The session's time is up, as Redis would see it; nothing has purged it yet.
      await raw.pexpire(`${prefix()}session:${sessionId}`, 1);
      await raw.zadd(`${prefix()}sessions:expiry`, Date.now() - 1000, sessionId);
      await new Promise((resolve) => setTimeout(resolve, 20));

      await t.http.get(`/api/v1/agents/a/memory/${sessionId}`).expect(404);
      await t.http
        .put(`/api/v1/agents/a/memory/${sessionId}`)
        .send({ memory_data: { revived: true } })
        .expect(404);
      const list = await t.http.get('/api/v1/agents/a/memory').expect(200);
      expect(list.body.total_count).toBe(1);
      expect(list.body.memory_records.map((r: { session_id: string }) => r.session_id)).toEqual([
        other,
      ]);
      await t.http.get(`/api/v1/memory/sessions/${sessionId}`).expect(404);
      expect((await raw.keys(`${prefix()}memory*`)).filter((k) => k.includes(sessionId))).toEqual(
        [],
      );
    });
  });

  describe('Idempotency-Key', () => {
    it('returns the first response to a retried memory create instead of a 409', async () => {
      const sessionId = await newSession();
      const body = {
        session_id: sessionId,
        memory_data: { a: 1 },
        memory_type: 'working',
        created_by: 'o',
      };
      const first = await t.http
        .post('/api/v1/agents/a1/memory')
        .set('Idempotency-Key', 'create-a1-1')
        .send(body)
        .expect(201);
      const retry = await t.http
        .post('/api/v1/agents/a1/memory')
        .set('Idempotency-Key', 'create-a1-1')
        .send({ ...body, memory_data: { a: 1 } })
        .expect(201);
      expect(retry.body).toEqual(first.body);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.headers.location).toBe(first.headers.location);
      expect(retry.headers.etag).toBe('"1"');

      await t.http
        .post('/api/v1/agents/a1/memory')
        .set('Idempotency-Key', 'create-a1-1')
        .send({ ...body, memory_data: { a: 2 } })
        .expect(422);
      await t.http.post('/api/v1/agents/a1/memory').send(body).expect(409);
      await t.http
        .post('/api/v1/agents/a1/memory')
        .set('Idempotency-Key', 'bad key!')
        .send(body)
        .expect(400);
    });

    it('does not create a duplicate session on a retried POST /sessions', async () => {
      const send = () =>
        t.http
          .post('/api/v1/sessions')
          .set('Idempotency-Key', 'session-create-1')
          .send({ session_config: { a: 1 }, created_by: 'u' })
          .expect(201);
      const first = await send();
      const retry = await send();
      expect(retry.body.session_id).toBe(first.body.session_id);
      expect((await t.http.get('/api/v1/sessions').expect(200)).body.total_count).toBe(1);
    });

    it('never creates twice when duplicates race: the others replay or get 409', async () => {
      const statuses = await Promise.all(
        Array.from({ length: 8 }, () =>
          t.http
            .post('/api/v1/sessions')
            .set('Idempotency-Key', 'racing-key')
            .send({ session_config: { race: true }, created_by: 'u' })
            .then((response) => ({
              status: response.status,
              id: (response.body as { session_id?: string }).session_id,
            })),
        ),
      );
      expect(statuses.every(({ status }) => status === 201 || status === 409)).toBe(true);
      const ids = new Set(statuses.filter((r) => r.status === 201).map((r) => r.id));
      expect(ids.size).toBe(1);
      expect((await t.http.get('/api/v1/sessions').expect(200)).body.total_count).toBe(1);
    });

    it('lets a retry run again when the first attempt failed', async () => {
      const sessionId = randomUUID();
      const body = {
        session_id: sessionId,
        memory_data: {},
        memory_type: 'working',
        created_by: 'o',
      };
      await t.http
        .post('/api/v1/agents/a1/memory')
        .set('Idempotency-Key', 'k-fail')
        .send(body)
        .expect(404);
      await t.http
        .post('/api/v1/agents/a1/memory')
        .set('Idempotency-Key', 'k-fail')
        .send(body)
        .expect(404);
    });

    it('keeps keys per tenant', async () => {
      const other = t.as({ sub: 'orchestrator-1', roles: ['orchestrator'], tenant: 'other' });
      const send = (agent: typeof other) =>
        agent
          .post('/api/v1/sessions')
          .set('Idempotency-Key', 'shared-key')
          .send({ session_config: {}, created_by: 'u' })
          .expect(201);
      const mine = await send(t.http);
      const theirs = await send(other);
      expect(theirs.body.session_id).not.toBe(mine.body.session_id);
    });
  });

  describe('agent isolation (agent-only tokens)', () => {
    const agentA = () => t.as({ sub: 'agent-a', roles: ['agent'] });

    it("reaches only its own /agents/{agent_id} routes (others' are 404)", async () => {
      const sessionId = await newSession();
      await createMemory('agent-b', sessionId, { memory_type: 'shared' });
      await agentA().get(`/api/v1/agents/agent-b/memory/${sessionId}`).expect(404);
      await agentA().get('/api/v1/agents/agent-b/memory').expect(404);
      await agentA()
        .post('/api/v1/agents/agent-b/memory')
        .send({
          session_id: sessionId,
          memory_data: {},
          memory_type: 'working',
          created_by: 'agent-a',
        })
        .expect(404);
    });

    it('records itself as created_by whatever the body says', async () => {
      const sessionId = await newSession();
      await agentA()
        .post('/api/v1/agents/agent-a/memory')
        .send({
          session_id: sessionId,
          memory_data: {},
          memory_type: 'working',
          created_by: 'someone-else',
        })
        .expect(201);
      const read = await agentA().get(`/api/v1/agents/agent-a/memory/${sessionId}`).expect(200);
      expect(read.body.created_by).toBe('agent-a');
    });

    it('sees its own records plus shared ones of sessions where it has memory', async () => {
      const s1 = await newSession();
      const s2 = await newSession();
      await createMemory('agent-a', s1);
      await createMemory('agent-b', s1, { memory_type: 'shared' });
      await createMemory('agent-c', s1, { memory_type: 'working' });
      await createMemory('agent-b', s2, { memory_type: 'shared' });

      const s1view = await agentA().get(`/api/v1/memory/sessions/${s1}`).expect(200);
      expect(s1view.body.total_agents).toBe(2);
      expect(
        s1view.body.agent_memories.map((m: { agent_id: string }) => m.agent_id).sort(),
      ).toEqual(['agent-a', 'agent-b']);
      const s2view = await agentA().get(`/api/v1/memory/sessions/${s2}`).expect(200);
      expect(s2view.body).toEqual({
        session_id: s2,
        agent_memories: [],
        total_agents: 0,
        total_count: 0,
        has_more: false,
        next_cursor: null,
      });

      const across = await agentA()
        .get('/api/v1/memory/agents?agent_ids=agent-a,agent-b,agent-c')
        .expect(200);
      expect(across.body.total_count).toBe(2);
      expect(
        across.body.memory_records
          .map(
            (m: { agent_id: string; session_id: string }) =>
              `${m.agent_id}@${m.session_id === s1 ? 1 : 2}`,
          )
          .sort(),
      ).toEqual(['agent-a@1', 'agent-b@1']);
    });
  });

  it('documents every memory route in Swagger with examples', async () => {
    const doc = (await t.anonymous.get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, unknown>>;
      components: {
        schemas: Record<string, { properties: Record<string, { example?: unknown }> }>;
      };
    };
    expect(Object.keys(doc.paths['/api/v1/agents/{agent_id}/memory/{session_id}']).sort()).toEqual([
      'delete',
      'get',
      'patch',
      'put',
    ]);
    expect(Object.keys(doc.paths['/api/v1/agents/{agent_id}/memory']).sort()).toEqual([
      'get',
      'post',
    ]);
    expect(doc.paths['/api/v1/memory/sessions/{session_id}']).toHaveProperty('get');
    expect(doc.paths['/api/v1/memory/agents']).toHaveProperty('get');
    expect(doc.components.schemas.CreateMemoryDto.properties.memory_data.example).toBeDefined();
    expect(doc.components.schemas.MemoryRecordDto.properties.memory_type.example).toBe('working');
  });
});
