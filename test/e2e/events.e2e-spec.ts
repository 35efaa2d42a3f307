import Redis from 'ioredis';
import type { AddressInfo } from 'node:net';
import { CacheExpirySweeper } from '../../apps/api/src/cache/cache-expiry.sweeper';
import { MemoryExpirySweeper } from '../../apps/api/src/memory/memory-expiry.sweeper';
import { SessionExpirySweeper } from '../../apps/api/src/sessions/session-expiry.sweeper';
import { RedisServer } from '../support/redis-server';
import { SseClient } from '../support/sse-client';
import { startTestApp, tokenFor, type TestApp, type TestClaims } from '../support/test-app';

interface EventView {
  event_id: string;
  type: string;
  tenant: string;
  resource_type: string;
  resource_id: string;
  version: number | null;
  occurred_at: string;
  actor: string;
}

const ORCHESTRATOR: TestClaims = { sub: 'orchestrator-1', roles: ['orchestrator'] };
const MERGE = 'application/merge-patch+json';

describe('Change feed (GET /events, Server-Sent Events)', () => {
  let redis: RedisServer;
  let raw: Redis;
  let t: TestApp;
  let base: string;
  const open: SseClient[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.port, '127.0.0.1');
    t = await startTestApp(redis.url, { EVENTS_HEARTBEAT_MS: '200' });
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterEach(() => {
    for (const client of open.splice(0)) client.close();
  });

  afterAll(async () => {
    await t.close();
    raw.disconnect();
    await redis.dispose();
  });

  async function subscribe(
    claims: TestClaims = ORCHESTRATOR,
    query = '',
    headers: Record<string, string> = {},
  ): Promise<SseClient> {
    const client = await SseClient.open(`${base}/api/v1/events${query}`, {
      authorization: `Bearer ${tokenFor(claims)}`,
      ...headers,
    });
    open.push(client);
    return client;
  }

  const prefix = (tenant = 'default') => `${t.config.redis.keyPrefix}:{${tenant}}:`;

  async function newSession(as: TestClaims = ORCHESTRATOR): Promise<string> {
    const response = await t
      .as(as)
      .post('/api/v1/sessions')
      .send({ session_config: {}, created_by: 'user-1' })
      .expect(201);
    return (response.body as { session_id: string }).session_id;
  }

  async function newMemory(agentId: string, sessionId: string): Promise<void> {
    await t.http
      .post(`/api/v1/agents/${agentId}/memory`)
      .send({ session_id: sessionId, memory_data: { step: 1 }, memory_type: 'working' })
      .expect(201);
  }

  it('streams every change type in order, with an id per event, and heartbeats', async () => {
    const feed = await subscribe();
    expect(feed.status).toBe(200);
    expect(feed.headers['content-type']).toMatch(/^text\/event-stream/);

    const sessionId = await newSession();
    await t.http
      .put(`/api/v1/sessions/${sessionId}`)
      .send({ metadata: { a: 1 } })
      .expect(200);
    await t.http
      .patch(`/api/v1/sessions/${sessionId}`)
      .set('content-type', MERGE)
      .send({ metadata: { b: 2 } })
      .expect(200);
    await newMemory('planner', sessionId);
    const memoryPath = `/api/v1/agents/planner/memory/${sessionId}`;
    await t.http
      .put(memoryPath)
      .send({ memory_data: { step: 2 } })
      .expect(200);
    await t.http
      .patch(memoryPath)
      .set('content-type', MERGE)
      .send({ memory_data: { note: 'x' } })
      .expect(200);
    await t.http.delete(memoryPath).expect(200);
    await t.http
      .post('/api/v1/cache/k1')
      .send({ data: 1, tags: ['t1'] })
      .expect(201);
    await t.http.put('/api/v1/cache/k1').send({ data: 2 }).expect(200);
    await t.http.delete('/api/v1/cache/k1').expect(200);
    await t.http
      .post('/api/v1/cache/k2')
      .send({ data: 1, tags: ['t1'] })
      .expect(201);
    await t.http
      .post('/api/v1/cache/invalidate')
      .send({ tags: ['t1'] })
      .expect(200);

    // Expiry: move expiries into the past as Redis would see them, then let the sweepers run.
    await t.http.post('/api/v1/cache/k3').send({ data: 1 }).expect(201);
    await raw.zadd(`${prefix()}cache:expiry`, Date.now() - 1000, 'k3');
    await t.app.get(CacheExpirySweeper).sweep();
    await newMemory('reviewer', sessionId);
    const member = `reviewer:${sessionId}`;
    await raw.zadd(`${prefix()}memory:expiry`, Date.now() - 1000, member);
    await t.app.get(MemoryExpirySweeper).sweep();
    await newMemory('writer', sessionId);
    await raw.zadd(`${prefix()}sessions:expiry`, Date.now() - 1000, sessionId);
    await t.app.get(SessionExpirySweeper).sweep();
    const doomed = await newSession();
    await t.http.delete(`/api/v1/sessions/${doomed}`).expect(200);

    const expected = [
      'session.created',
      'session.updated',
      'session.patched',
      'memory.created',
      'memory.updated',
      'memory.patched',
      'memory.deleted',
      'cache.set',
      'cache.set',
      'cache.deleted',
      'cache.set',
      'cache.invalidated',
      'cache.set',
      'cache.expired',
      'memory.created',
      'memory.expired',
      'memory.created',
      // A bounded purge removes a session's memory first, so a session whose memory outlasts one
      // call's budget stays listed as expired until the next call finishes it.
      'memory.expired',
      'session.expired',
      'session.created',
      'session.deleted',
    ];
    await feed.waitFor(expected.length);
    expect(feed.messages.map((m) => m.event)).toEqual(expected);
    const events = feed.events<EventView>();
    // The SSE id is the event id; ids only grow.
    expect(feed.messages.map((m) => m.id)).toEqual(events.map((e) => e.event_id));
    const ids = events.map((e) => e.event_id);
    expect([...ids].sort(compareIds)).toEqual(ids);
    expect(events[0]).toEqual({
      event_id: expect.stringMatching(/^\d+-\d+$/),
      type: 'session.created',
      tenant: 'default',
      resource_type: 'session',
      resource_id: sessionId,
      version: 1,
      occurred_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      actor: 'orchestrator-1',
    });
    expect(events[2]).toMatchObject({ type: 'session.patched', version: 3 });
    expect(events[3]).toMatchObject({
      resource_type: 'memory',
      resource_id: `planner/${sessionId}`,
      version: 1,
    });
    expect(events[13]).toMatchObject({ resource_id: 'k3', actor: 'system' });
    expect(events[17]).toMatchObject({ resource_id: `writer/${sessionId}` });
    expect(events[18]).toMatchObject({ resource_id: sessionId, actor: 'system' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(feed.comments).toBeGreaterThanOrEqual(2);
  });

  it('replays from since, and resumes after a disconnect from Last-Event-ID without gaps or repeats', async () => {
    const start = await subscribe();
    const first = await newSession();
    await start.waitFor(1);
    const firstId = start.messages[0].id!;
    start.close();

    const missed = [await newSession(), await newSession()];
    const replay = await subscribe(ORCHESTRATOR, `?since=${firstId}&types=session.created`);
    await replay.waitFor(2);
    expect(replay.events<EventView>().map((e) => e.resource_id)).toEqual(missed);

    // Disconnect after the first replayed event; resume from its id (EventSource sends the header).
    const lastSeen = replay.messages[0].id!;
    replay.close();
    const later = await newSession();
    const resumed = await subscribe(ORCHESTRATOR, '', { 'last-event-id': lastSeen });
    await resumed.waitFor(2);
    expect(resumed.events<EventView>().map((e) => e.resource_id)).toEqual([missed[1], later]);
    // Then live.
    const live = await newSession();
    await resumed.waitFor(3);
    expect(resumed.events<EventView>()[2].resource_id).toBe(live);
    expect(first).not.toBe(live);
  });

  it('appends no event for a refused write, and records the subscription in the audit trail', async () => {
    const feed = await subscribe();
    const sessionId = await newSession();
    await t.http
      .put(`/api/v1/sessions/${sessionId}`)
      .set('if-match', '"7"')
      .send({ metadata: { stale: true } })
      .expect(412);
    await t.http
      .put(`/api/v1/sessions/${sessionId}`)
      .send({ metadata: { ok: true } })
      .expect(200);
    await feed.waitFor(2);
    expect(feed.events<EventView>().map((e) => [e.type, e.version])).toEqual([
      ['session.created', 1],
      ['session.updated', 2],
    ]);

    const audit = await t
      .as({ sub: 'root', roles: ['admin'] })
      .get('/api/v1/audit')
      .expect(200);
    const records = audit.body.audit_records as { operation: string; resource_type: string }[];
    expect(records).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ operation: 'subscribe', resource_type: 'event' }),
      ]),
    );
  });

  it('refuses a malformed position with 400 naming the field', async () => {
    const bad = await subscribe(ORCHESTRATOR, '?since=yesterday');
    await waitEnded(bad);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ errors: [{ field: 'since' }] });
    const header = await subscribe(ORCHESTRATOR, '', { 'last-event-id': 'x' });
    await waitEnded(header);
    expect(header.status).toBe(400);
  });

  it('shows an agent token only the events it could read (its own memory, not other agents)', async () => {
    const agent = await subscribe({ sub: 'agent-a', roles: ['agent'] });
    const sessionId = await newSession();
    await newMemory('agent-b', sessionId);
    await newMemory('agent-a', sessionId);
    await t.http.post('/api/v1/cache/seen-by-agents').send({ data: 1 }).expect(201);

    await agent.waitFor(3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(agent.events<EventView>().map((e) => [e.type, e.resource_id])).toEqual([
      ['session.created', sessionId],
      ['memory.created', `agent-a/${sessionId}`],
      ['cache.set', 'seen-by-agents'],
    ]);
  });

  it("keeps tenants apart: a subscriber sees its own tenant's events only", async () => {
    const other: TestClaims = { sub: 'orch-other', roles: ['orchestrator'], tenant: 'other' };
    const otherFeed = await subscribe(other);
    const defaultFeed = await subscribe();
    const mine = await newSession(other);
    const theirs = await newSession();

    await otherFeed.waitFor(1);
    await defaultFeed.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(otherFeed.events<EventView>().map((e) => [e.tenant, e.resource_id])).toEqual([
      ['other', mine],
    ]);
    expect(defaultFeed.events<EventView>().map((e) => [e.tenant, e.resource_id])).toEqual([
      ['default', theirs],
    ]);
  });

  it('serves many idle subscribers over one shared Redis connection', async () => {
    await subscribe();
    const before = await clientCount();
    const tenants = ['t1', 't2', 't3', 't4', 't5'];
    const feeds = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        subscribe({ sub: `o${i}`, roles: ['orchestrator'], tenant: tenants[i % 5] }),
      ),
    );
    expect(await clientCount()).toBe(before);
    await newSession({ sub: 'w', roles: ['orchestrator'], tenant: 't3' });
    await Promise.all(feeds.filter((_, i) => i % 5 === 2).map((feed) => feed.waitFor(1)));
    expect(feeds.filter((feed) => feed.messages.length > 0)).toHaveLength(10);
  });

  it('answers 410 with the oldest available id for a position lost to retention', async () => {
    // A second replica on the same Redis with a retention of about 1 s.
    const short = await startTestApp(redis.url, { EVENTS_RETENTION_HOURS: '0.0003' });
    try {
      const tenant: TestClaims = { sub: 'o', roles: ['orchestrator'], tenant: 'retention' };
      for (let i = 0; i < 2; i++) {
        await short
          .as(tenant)
          .post('/api/v1/sessions/batch')
          .send({
            sessions: Array.from({ length: 100 }, () => ({ session_config: {}, created_by: 'u' })),
          })
          .expect(201);
      }
      const [[firstId]] = (await raw.xrange(
        `${prefix('retention')}events`,
        '-',
        '+',
        'COUNT',
        1,
      )) as [string, string[]][];
      await new Promise((resolve) => setTimeout(resolve, 1500));
      // Trimming happens on append: whole stream nodes older than the retention go.
      await short.as(tenant).post('/api/v1/sessions').send({ session_config: {}, created_by: 'u' });
      const [[oldest]] = (await raw.xrange(
        `${prefix('retention')}events`,
        '-',
        '+',
        'COUNT',
        1,
      )) as [string, string[]][];
      expect(oldest).not.toBe(firstId);

      const gone = await SseClient.open(`${base}/api/v1/events?since=${firstId}`, {
        authorization: `Bearer ${tokenFor(tenant)}`,
      });
      open.push(gone);
      await waitEnded(gone);
      expect(gone.status).toBe(410);
      expect(gone.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(JSON.parse(gone.body)).toMatchObject({ status: 410, oldest_available_id: oldest });
    } finally {
      await short.close();
    }
  });

  async function clientCount(): Promise<number> {
    const list = (await raw.client('LIST')) as string;
    return list.trim().split('\n').length;
  }
});

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  return as < bs ? -1 : as > bs ? 1 : 0;
}

async function waitEnded(client: SseClient): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!client.ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
