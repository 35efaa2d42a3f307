import { ConsistencyChecker } from '@app/redis/consistency/consistency-checker';
import { createRedisClient, type RedisClient } from '@app/redis/connection/redis-client.factory';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import type TestAgent from 'supertest/lib/agent';
import { RedisCluster } from '../support/redis-cluster';
import { startTestApp, type TestApp } from '../support/test-app';

const TENANT = 'reshard';
const STATUSES = ['queued', 'running', 'paused', 'completed'];
const AGENTS = ['planner', 'critic', 'coder'];
const TYPES = ['working', 'persistent', 'shared'];

/** Deterministic pseudo-random numbers, so a failing run can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

/**
 * A tenant's slot moves between Cluster masters (MIGRATING/IMPORTING, MIGRATE a few keys at a time,
 * SETSLOT NODE) while clients write through the API: session creates, status moves (which change
 * index keys), deletes (which cascade into memory), memory writes and cache writes with tags. Every
 * script declares its slot's migration fence, so none starts on a half-moved slot: each request
 * either succeeds (after the client's TRYAGAIN retries) or answers 503, never 500, and no index is
 * left wrong.
 */
describe('Redis Cluster: a tenant slot moves under concurrent writes', () => {
  let cluster: RedisCluster;
  let t: TestApp;
  let direct: RedisClient;
  let http: TestAgent;

  beforeAll(async () => {
    cluster = await RedisCluster.start();
    t = await startTestApp(cluster.url);
    direct = createRedisClient({
      url: cluster.url,
      commandTimeoutMs: 10_000,
      connectTimeoutMs: 5_000,
    });
    http = t.as({ sub: 'orch-1', roles: ['orchestrator'], tenant: TENANT });
  }, 60_000);

  afterAll(async () => {
    direct?.disconnect();
    await t?.close();
    cluster?.dispose();
  });

  it('keeps every index right and answers no request with a 500', async () => {
    const next = random(11);
    const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)];
    const sessions: string[] = [];
    const statuses = new Map<number, number>();
    const writes = { ok: 0, during_move: 0 };
    let moving = false;

    const createSession = async () => {
      const res = await http
        .post('/api/v1/sessions')
        .send({ session_config: { n: sessions.length }, created_by: pick(['u:1', 'u:2']) });
      if (res.status === 201) sessions.push(res.body.session_id as string);
      return res.status;
    };
    for (let i = 0; i < 30; i++) await createSession();

    const operation = async (): Promise<{ status: number; body: unknown }> => {
      const id = pick(sessions);
      const agent = pick(AGENTS);
      const roll = next();
      if (roll < 0.15) return { status: await createSession(), body: {} };
      if (roll < 0.35) {
        return http
          .put(`/api/v1/sessions/${id}/status`)
          .send({ status: pick(STATUSES), updated_by: 'o' });
      }
      if (roll < 0.42) return http.delete(`/api/v1/sessions/${id}`);
      if (roll < 0.55) {
        return http.post(`/api/v1/agents/${agent}/memory`).send({
          session_id: id,
          memory_data: { at: Date.now() },
          memory_type: pick(TYPES),
          created_by: 'o',
        });
      }
      if (roll < 0.63) {
        return http
          .put(`/api/v1/agents/${agent}/memory/${id}`)
          .send({ memory_data: { replaced: true }, memory_type: pick(TYPES) });
      }
      if (roll < 0.68) return http.delete(`/api/v1/agents/${agent}/memory/${id}`);
      if (roll < 0.85) {
        return http
          .post(`/api/v1/cache/k${Math.floor(next() * 30)}`)
          .send({ data: { roll }, tags: [pick(['red', 'blue', 'green'])] });
      }
      if (roll < 0.9) {
        return http.post('/api/v1/cache/invalidate').send({ tags: [pick(['red', 'blue'])] });
      }
      if (roll < 0.95) return http.delete(`/api/v1/cache/k${Math.floor(next() * 30)}`);
      return http.get(`/api/v1/sessions?status=${pick(STATUSES)}&limit=5`);
    };

    let stop = false;
    const worker = async () => {
      while (!stop) {
        const during = moving;
        const { status } = await operation();
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status < 300) {
          writes.ok += 1;
          if (during) writes.during_move += 1;
        }
      }
    };
    const workers = Array.from({ length: 6 }, () => worker());

    const slot = await direct.cluster('KEYSLOT', `{${TENANT}}`);
    const home = await cluster.ownerOf(slot);
    const away = cluster.otherThan(home);
    let moved = 0;
    // There and back twice: every request kind lands on a source, a target and a settled slot.
    for (const to of [away, home, away, home]) {
      moving = true;
      moved += await cluster.moveSlot(slot, to, { batch: 3, pauseMs: 40 });
      moving = false;
      await new Promise((r) => setTimeout(r, 100));
    }
    stop = true;
    await Promise.all(workers);

    const summary = Object.fromEntries([...statuses].sort(([a], [b]) => a - b));
    // The figure quoted in the README.
    process.stdout.write(
      `resharding: ${moved} keys moved in 4 slot moves; statuses ${JSON.stringify(summary)}; ` +
        `${writes.ok} requests succeeded, ${writes.during_move} while the slot was moving\n`,
    );
    expect(moved).toBeGreaterThan(100);
    expect([...statuses.keys()].filter((s) => s >= 500 && s !== 503)).toEqual([]);
    expect(writes.during_move).toBeGreaterThan(0);

    const checker = new ConsistencyChecker(direct, new RedisKeyBuilder(t.config.redis.keyPrefix), {
      graceMs: 0,
    });
    const report = await checker.checkTenant(TENANT);
    expect(report.violations).toEqual([]);
    expect(report.sessions).toBeGreaterThan(5);
    expect(report.cache_entries).toBeGreaterThan(0);
  }, 180_000);
});
