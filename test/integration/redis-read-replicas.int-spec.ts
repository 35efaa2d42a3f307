import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { register } from 'prom-client';
import { eventually } from '../support/eventually';
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
  const logLines: string[] = [];
  const record = (message: unknown) => void logLines.push(String(message));

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

  /** A new session of `app`'s default tenant, once the replica has it. */
  async function replicatedSession(app: TestApp = t): Promise<string> {
    const created = await app.http
      .post('/api/v1/sessions')
      .send({ session_config: { a: 1 }, created_by: 'u' })
      .expect(201);
    const id = created.body.session_id as string;
    await replicated(`${app.config.redis.keyPrefix}:{default}:session:${id}`);
    return id;
  }

  /** Passes when `node` served one GET of session `id` through `app` (its HGETALL count rose by one). */
  async function servedBy(node: Redis, id: string, app: TestApp = t): Promise<void> {
    const before = await calls(node, 'hgetall');
    await app.http.get(`/api/v1/sessions/${id}`).expect(200);
    expect(await calls(node, 'hgetall')).toBe(before + 1);
  }

  it('serves a session GET from the replica and writes through the primary', async () => {
    const id = await replicatedSession();

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

  /** Reads meant for the replica that the primary served instead. */
  async function fallbackReads(): Promise<number> {
    const metric = register.getSingleMetric('masa_redis_replica_fallback_reads_total');
    return (await metric?.get())?.values[0]?.value ?? 0;
  }

  it('falls back to the primary while the replica is stopped, and returns to it when it is back', async () => {
    const id = await replicatedSession();
    await t.http.post('/api/v1/cache/fallback').send({ data: 'still here' }).expect(201);
    await replicated(`${t.config.redis.keyPrefix}:{default}:cache:e:fallback`);
    await eventually(() => servedBy(replica, id), 10_000);

    const [primaryBefore, fallbacksBefore] = [
      await calls(primary, 'hgetall'),
      await fallbackReads(),
    ];
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(record);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(record);
    const logged = (text: string) => logLines.filter((line) => line.includes(text)).length;
    const [fellBack, cameBack] = [logged('reads fall back'), logged('back on the replica')];
    group.pauseReplica();
    try {
      // Every read still answers: the first may wait out its timeout on the frozen replica and is
      // then sent to the primary; the probe keeps the next ones off the replica.
      for (let i = 0; i < 5; i++) await t.http.get(`/api/v1/sessions/${id}`).expect(200);
      const cached = await t.http.get('/api/v1/cache/fallback').expect(200);
      expect(cached.body.data).toBe('still here');
      expect(await calls(primary, 'hgetall')).toBeGreaterThanOrEqual(primaryBefore + 5);
      expect(await fallbackReads()).toBeGreaterThanOrEqual(fallbacksBefore + 6);
    } finally {
      group.resumeReplica();
    }

    // Within a few probes (one a second) reads are back on the replica.
    await eventually(() => servedBy(replica, id), 15_000);
    // Logged once each way, not once per read.
    expect(logged('reads fall back') - fellBack).toBe(1);
    expect(logged('back on the replica') - cameBack).toBe(1);
    warn.mockRestore();
    log.mockRestore();
  }, 60_000);

  it('answers every read within REDIS_REPLICA_READ_TIMEOUT_MS (500 ms) of a replica freezing, from the primary, and returns after -CONT', async () => {
    const id = await replicatedSession();
    await eventually(() => servedBy(replica, id), 10_000);
    const fallbacksBefore = await fallbackReads();

    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(record);
    group.pauseReplica();
    const stoppedAt = performance.now();
    const reads: Promise<{ sentAt: number; ms: number; status: number; id: unknown }>[] = [];
    try {
      // 5 GETs every 50 ms for 2.5 s, sent without waiting for earlier ones (open loop): those
      // sent before anything noticed the stop are the ones a frozen replica could hold.
      while (performance.now() - stoppedAt < 2500) {
        const sentAt = performance.now() - stoppedAt;
        for (let i = 0; i < 5; i++) {
          reads.push(
            t.http.get(`/api/v1/sessions/${id}`).then((response) => ({
              sentAt,
              ms: performance.now() - stoppedAt - sentAt,
              status: response.status,
              id: response.body.session_id,
            })),
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      const results = await Promise.all(reads);
      expect(results.filter((r) => r.status !== 200 || r.id !== id)).toEqual([]);
      // The deadline (500 ms) plus the primary's answer and a loaded machine's margin; without
      // it the first reads waited the whole REDIS_COMMAND_TIMEOUT_MS (2 s) on the replica.
      const slowest = Math.max(...results.map((r) => r.ms));
      process.stdout.write(
        `frozen replica: ${results.length} reads, slowest ${slowest.toFixed(0)} ms, ` +
          `${results.filter((r) => r.ms > 400).length} over 400 ms\n`,
      );
      expect(slowest).toBeLessThan(1000);
      // Each read is counted once: served by the primary after the deadline, or sent there at once.
      expect(await fallbackReads()).toBeGreaterThanOrEqual(fallbacksBefore + results.length);
    } finally {
      group.resumeReplica();
      warn.mockRestore();
    }
    await eventually(() => servedBy(replica, id), 15_000);
  }, 60_000);

  it('falls back while the replica is cut off from its master past REDIS_REPLICA_MAX_STALENESS_MS', async () => {
    const strict = await startTestApp(group.url, {
      REDIS_READ_FROM: 'replica',
      REDIS_REPLICA_MAX_STALENESS_MS: '1000',
    });
    try {
      const id = await replicatedSession(strict);
      const servedByStrict = (node: Redis) => servedBy(node, id, strict);
      await eventually(() => servedByStrict(replica), 10_000);

      // The replica stays up and answering, but cannot resync: its handshake fails on AUTH.
      await replica.config('SET', 'masterauth', 'not-the-password');
      await replica.call('CLIENT', 'KILL', 'TYPE', 'master');
      try {
        await eventually(async () => {
          expect(await replica.info('replication')).toContain('master_link_status:down');
        });
        // Within the bound the replica still serves; past it (and a probe), the primary does.
        await eventually(() => servedByStrict(primary), 10_000);
      } finally {
        await replica.config('SET', 'masterauth', '');
      }
      await eventually(() => servedByStrict(replica), 15_000);
    } finally {
      await strict.close();
    }
  }, 60_000);

  it('serves a cache GET (a read-only script) from the replica', async () => {
    await t.http.post('/api/v1/cache/greeting').send({ data: 'hello' }).expect(201);
    await replicated(`${t.config.redis.keyPrefix}:{default}:cache:e:greeting`);
    const before = await calls(replica, 'evalsha_ro');
    const read = await t.http.get('/api/v1/cache/greeting').expect(200);
    expect(read.body.data).toBe('hello');
    expect(await calls(replica, 'evalsha_ro')).toBeGreaterThan(before);
  }, 30_000);
});
