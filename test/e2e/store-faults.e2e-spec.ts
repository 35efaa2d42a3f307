import Redis from 'ioredis';
import { RedisHealthProbe, subscribeRedisCommands } from '@app/redis';
import { CREATE_MEMORY } from '@app/redis/memory/memory.scripts';
import { CREATE_SESSIONS, UPDATE_SESSION } from '@app/redis/sessions/session.scripts';
import { RedisServer } from '../support/redis-server';
import { ReplyDroppingProxy } from '../support/reply-dropping-proxy';
import { startTestApp, type TestApp } from '../support/test-app';
import { eventually } from '../support/eventually';

const PROBLEM = /application\/problem\+json/;

/**
 * Redis refusing or losing work, class by class: each one gets a deliberate answer (status,
 * Retry-After, `store_failure`), never a bare 500, never a half-written record, and reads keep
 * working while Redis refuses writes.
 */
describe('Redis failure classes over HTTP', () => {
  let redis: RedisServer;
  let raw: Redis;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.port, '127.0.0.1');
    t = await startTestApp(redis.url);
  });

  afterAll(async () => {
    await t.close();
    raw.disconnect();
    await redis.dispose();
  });

  beforeEach(async () => {
    await raw.config('SET', 'maxmemory', '0');
    await raw.flushall();
  });

  async function createSession(createdBy = 'u'): Promise<string> {
    const response = await t.http
      .post('/api/v1/sessions')
      .send({ session_config: { a: 1 }, created_by: createdBy })
      .expect(201);
    return response.body.session_id as string;
  }

  const sessionsStored = () => raw.zcard(`${t.config.redis.keyPrefix}:{default}:sessions`);

  describe('when Redis is out of memory (maxmemory reached, noeviction)', () => {
    it('refuses writes whole with 507, keeps reads, lists, cursors and cache reads at 200, and lets deletes free memory', async () => {
      const ids = [await createSession(), await createSession(), await createSession()];
      await t.http.post('/api/v1/cache/k').send({ data: 1 }).expect(201);
      const firstPage = await t.http.get('/api/v1/sessions?limit=1').expect(200);
      await raw.config('SET', 'maxmemory', '1');

      const refused = await t.http
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'u' })
        .expect(507);
      expect(refused.headers['content-type']).toMatch(PROBLEM);
      expect(refused.headers['retry-after']).toBe('30');
      expect(refused.body).toMatchObject({ store_failure: 'out_of_memory' });
      await t.http.put('/api/v1/cache/k').send({ data: 2 }).expect(507);
      await t.http
        .put(`/api/v1/sessions/${ids[0]}/status`)
        .send({ status: 'running', updated_by: 'u' })
        .expect(507);
      expect(await sessionsStored()).toBe(3);

      // Reads do not write: not the rate limiter (fails open), not paging, not cache statistics.
      await t.http.get(`/api/v1/sessions/${ids[0]}`).expect(200);
      const next = await t.http
        .get(`/api/v1/sessions?limit=1&cursor=${firstPage.body.next_cursor}`)
        .expect(200);
      expect(next.body.sessions).toHaveLength(1);
      expect((await t.http.get('/api/v1/cache/k').expect(200)).body.data).toBe(1);

      // Deleting is how an operator frees memory, so deletes run past maxmemory.
      await t.http.delete(`/api/v1/sessions/${ids[1]}`).expect(200);
      expect(await sessionsStored()).toBe(2);
    });
  });

  describe('when Redis is a read-only replica (a failover in progress)', () => {
    it('answers writes 503 read_only with nothing written, and serves reads', async () => {
      const id = await createSession();
      const primary = await RedisServer.start();
      try {
        // A replica keeps serving its data set while it cannot reach its primary.
        await raw.config('SET', 'replica-serve-stale-data', 'yes');
        await primary.stop();
        await raw.replicaof('127.0.0.1', String(primary.port));
        const refused = await t.http
          .post('/api/v1/sessions')
          .send({ session_config: {}, created_by: 'u' })
          .expect(503);
        expect(refused.body).toMatchObject({ store_failure: 'read_only' });
        expect(refused.headers['retry-after']).toBe('2');
        await t.http.get(`/api/v1/sessions/${id}`).expect(200);
        expect(await sessionsStored()).toBe(1);
      } finally {
        await raw.replicaof('NO', 'ONE');
        await primary.dispose();
      }
      await createSession();
    });
  });

  describe('when a long script holds Redis (BUSY)', () => {
    it('answers 503 busy at once instead of hanging, and recovers when the script ends', async () => {
      const id = await createSession();
      const blocker = new Redis(redis.port, '127.0.0.1');
      try {
        await raw.config('SET', 'busy-reply-threshold', '50');
        const running = blocker.eval('while true do end', 0).catch((error: Error) => error.message);
        await new Promise((resolve) => setTimeout(resolve, 200));
        const busy = await t.http.get(`/api/v1/sessions/${id}`).expect(503);
        expect(busy.body).toMatchObject({ store_failure: 'busy' });
        await raw.script('KILL');
        expect(await running).toMatch(/killed/i);
      } finally {
        blocker.disconnect();
        await raw.config('SET', 'busy-reply-threshold', '5000');
      }
      await t.http.get(`/api/v1/sessions/${id}`).expect(200);
    });
  });

  describe('when the reply to a write is lost', () => {
    let proxy: ReplyDroppingProxy;
    let viaProxy: TestApp;

    beforeAll(async () => {
      proxy = await ReplyDroppingProxy.start(redis.port);
      viaProxy = await startTestApp(proxy.url, { REDIS_COMMAND_TIMEOUT_MS: '1000' });
    });

    afterAll(async () => {
      await viaProxy.close();
      await proxy.close();
    });

    it('answers 503 "outcome unknown" and never re-sends the write (applied exactly once)', async () => {
      const created = await viaProxy.http
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'u' })
        .expect(201);
      const id = created.body.session_id as string;
      // Redis knows the script already, so the lost EVALSHA is the one that runs it.
      await viaProxy.http
        .put(`/api/v1/sessions/${id}`)
        .send({ metadata: { warm: true } })
        .expect(200);

      proxy.dropReplyTo(UPDATE_SESSION.sha);
      const lost = await viaProxy.http
        .put(`/api/v1/sessions/${id}/status`)
        .set('If-Match', '"2"')
        .send({ status: 'running', updated_by: 'u' })
        .expect(503);
      expect(proxy.dropped).toBe(1);
      expect(lost.body).toMatchObject({ store_failure: 'outcome_unknown' });
      expect(lost.body.detail).toContain('may or may not have been applied');

      // The update ran once: re-sent after the reconnect it would have met its own new version
      // and the caller would have been told 412 for a write that succeeded.
      let session;
      for (let i = 0; i < 50; i++) {
        session = await viaProxy.http.get(`/api/v1/sessions/${id}`);
        if (session.status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(session?.body).toMatchObject({ status: 'running', version: 3 });
      const record = `${viaProxy.config.redis.keyPrefix}:{default}:session:${id}`;
      expect(await raw.hget(record, 'version')).toBe('3');
    });

    it('lets a create retried after outcome_unknown find its own record instead of making a second', async () => {
      // Redis knows the script already, so the lost EVALSHA is the one that runs it.
      await viaProxy.http.post('/api/v1/sessions').send({ session_config: {}, created_by: 'u' });
      const before = await sessionsStored();
      proxy.dropReplyTo(CREATE_SESSIONS.sha);
      const body = { session_config: { attempt: 'lost' }, created_by: 'u' };
      const lost = await viaProxy.http
        .post('/api/v1/sessions')
        .set('Idempotency-Key', 'lost-create-1')
        .send(body)
        .expect(503);
      expect(lost.body).toMatchObject({ store_failure: 'outcome_unknown' });
      expect(await sessionsStored()).toBe(before + 1);

      // The client does what the 503 says: the same request with the same key, until it answers.
      let retry;
      for (let i = 0; i < 50; i++) {
        retry = await viaProxy.http
          .post('/api/v1/sessions')
          .set('Idempotency-Key', 'lost-create-1')
          .send(body);
        if (retry.status !== 503) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(retry?.status).toBe(201);
      expect(await sessionsStored()).toBe(before + 1);
      const stored = await viaProxy.http.get(`/api/v1/sessions/${retry?.body.session_id}`);
      expect(stored.body).toMatchObject({ session_config: { attempt: 'lost' }, version: 1 });
    });

    it('answers a memory create retried after outcome_unknown with its own record, not 409', async () => {
      const session = await viaProxy.http
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'u' })
        .expect(201);
      const sessionId = session.body.session_id as string;
      const body = {
        session_id: sessionId,
        memory_data: { n: 1 },
        memory_type: 'working',
        created_by: 'u',
      };
      await viaProxy.http.post('/api/v1/agents/warm/memory').send(body).expect(201);
      proxy.dropReplyTo(CREATE_MEMORY.sha);
      await viaProxy.http
        .post('/api/v1/agents/lost/memory')
        .set('Idempotency-Key', 'lost-memory-1')
        .send(body)
        .expect(503);

      let retry;
      for (let i = 0; i < 50; i++) {
        retry = await viaProxy.http
          .post('/api/v1/agents/lost/memory')
          .set('Idempotency-Key', 'lost-memory-1')
          .send(body);
        if (retry.status !== 503) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(retry?.status).toBe(201);
      const stored = await viaProxy.http.get(`/api/v1/agents/lost/memory/${sessionId}`).expect(200);
      expect(stored.body).toMatchObject({ memory_id: retry?.body.memory_id, version: 1 });
      // Without the key, a second create of the pair is still a conflict.
      await viaProxy.http.post('/api/v1/agents/lost/memory').send(body).expect(409);
    });

    it('answers 201 for a create whose Idempotency-Key bookkeeping failed afterwards, and never creates twice', async () => {
      const before = await sessionsStored();
      const droppedBefore = proxy.dropped;
      // The stored response ({"s":"done",...}) travels only in the bookkeeping after the write.
      proxy.dropReplyTo('{"s":"done"');
      const created = await viaProxy.http
        .post('/api/v1/sessions')
        .set('Idempotency-Key', 'lost-complete-1')
        .send({ session_config: {}, created_by: 'u' })
        .expect(201);
      expect(proxy.dropped).toBe(droppedBefore + 1);
      expect(created.body.session_id).toEqual(expect.any(String));

      // The lost reply belonged to a SET that ran, so a retry replays the first response; had it
      // not run, the retry would be told to wait (409). Either way there is no second record.
      const retry = await viaProxy.http
        .post('/api/v1/sessions')
        .set('Idempotency-Key', 'lost-complete-1')
        .send({ session_config: {}, created_by: 'u' })
        .expect(201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.body.session_id).toBe(created.body.session_id);
      expect(await sessionsStored()).toBe(before + 1);
    });
  });
});

describe('Redis that may evict keys (maxmemory-policy)', () => {
  let evicting: RedisServer;

  beforeAll(async () => {
    evicting = await RedisServer.start(['--maxmemory-policy', 'allkeys-lru']);
  });

  afterAll(() => evicting.dispose());

  it('refuses to start with REDIS_EVICTION_POLICY_CHECK=refuse (production), naming the fix', async () => {
    await expect(
      startTestApp(evicting.url, { REDIS_EVICTION_POLICY_CHECK: 'refuse' }),
    ).rejects.toThrow(/maxmemory-policy is allkeys-lru; it must be noeviction/);
  });

  it('starts with a warning by default, and with no check at all when off', async () => {
    for (const mode of ['warn', 'off']) {
      const app = await startTestApp(evicting.url, { REDIS_EVICTION_POLICY_CHECK: mode });
      await app.http.get('/api/v1/health/ready').expect(200);
      await app.close();
    }
  });
});

describe('Redis that stops answering (circuit breaker)', () => {
  let redis: RedisServer;
  let raw: Redis;
  let t: TestApp;
  const breakerState = () => t.app.get(RedisHealthProbe, { strict: false }).breakerState;
  const createSession = async () =>
    (
      await t.http
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'u' })
        .expect(201)
    ).body.session_id as string;

  beforeAll(async () => {
    redis = await RedisServer.start(['--enable-debug-command', 'yes']);
    raw = new Redis(redis.port, '127.0.0.1');
    t = await startTestApp(redis.url, {
      REDIS_COMMAND_TIMEOUT_MS: '600',
      REDIS_BREAKER_FAILURES: '3',
      REDIS_BREAKER_PROBE_INTERVAL_MS: '100',
      REDIS_BREAKER_PROBE_TIMEOUT_MS: '300',
    });
  });

  afterAll(async () => {
    redis.resume();
    await t.close();
    raw.disconnect();
    await redis.dispose();
  });

  it('stays closed for a Redis that answers slowly or with error replies', async () => {
    const id = await createSession();
    // Slow but within the command timeout: every request waits, none fails.
    const sleeping = raw.call('DEBUG', 'SLEEP', '0.3');
    const slow = await Promise.all(
      Array.from({ length: 5 }, () => t.http.get(`/api/v1/sessions/${id}`)),
    );
    await sleeping;
    expect(slow.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    // Error replies are Redis answering: OOM refusals, more of them than the threshold.
    await raw.config('SET', 'maxmemory', '1');
    for (let i = 0; i < 5; i++) {
      await t.http
        .post('/api/v1/sessions')
        .send({ session_config: {}, created_by: 'u' })
        .expect(507);
    }
    await raw.config('SET', 'maxmemory', '0');
    expect(breakerState()).toBe('closed');
  });

  it('opens when Redis hangs (kill -STOP): 503 at once with nothing sent; closes after kill -CONT', async () => {
    const id = await createSession();
    redis.pause();

    // Until the breaker has seen 3 timeouts, each request waits for the command timeout.
    for (let i = 0; i < 10 && breakerState() !== 'open'; i++) {
      await t.http.get(`/api/v1/sessions/${id}`).expect(503);
    }
    expect(breakerState()).toBe('open');
    const ready = await t.anonymous.get('/api/v1/health/ready').expect(503);
    expect(ready.body.details.redis).toMatchObject({ status: 'down', breaker: 'open' });
    const metrics = (await t.anonymous.get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^masa_redis_breaker_state 2$/m);
    expect(metrics).toMatch(/^masa_redis_breaker_transitions_total\{from="closed",to="open"\} 1$/m);

    // While open, requests are refused before any command is written to the hung connection
    // (the tracing channel reports only commands ioredis wrote); only probe PINGs go out.
    const written: string[] = [];
    const unsubscribe = subscribeRedisCommands<void>({
      start: (event) => void written.push(event.command),
      end: () => undefined,
    });
    try {
      const refused = [
        await t.http.get(`/api/v1/sessions/${id}`),
        await t.http.post('/api/v1/sessions').send({ session_config: {}, created_by: 'u' }),
        await t.http.get('/api/v1/cache/anything'),
        await t.http.get('/api/v1/sessions'),
      ];
      for (const response of refused) {
        expect(response.status).toBe(503);
        expect(response.body).toMatchObject({ store_failure: 'unreachable' });
        expect(response.headers['retry-after']).toBe('1');
      }
    } finally {
      unsubscribe();
    }
    expect(written.filter((command) => command !== 'ping')).toEqual([]);
    expect(breakerState()).toBe('open');

    redis.resume();
    // The same app, not restarted: a probe is answered, one trial request closes the breaker.
    await eventually(() => t.http.get(`/api/v1/sessions/${id}`).expect(200), 15000);
    expect(breakerState()).toBe('closed');
    await t.anonymous.get('/api/v1/health/ready').expect(200);
    const after = (await t.anonymous.get('/metrics').expect(200)).text;
    expect(after).toMatch(/^masa_redis_breaker_state 0$/m);
    expect(after).toMatch(
      /^masa_redis_breaker_transitions_total\{from="half_open",to="closed"\} 1$/m,
    );
  });
});
