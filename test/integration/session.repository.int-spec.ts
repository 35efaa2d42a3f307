import Redis from 'ioredis';
import type { RedisClient } from '@app/redis/connection/redis-client.factory';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import { JsonPayloadCodec } from '@app/redis/payload-codec';
import { RedisSessionRepository } from '@app/redis/sessions/redis-session.repository';
import type { StoredSession } from '@app/redis/sessions/session.repository';
import { StoreUnavailableError } from '@app/redis/store-errors';
import { randomUUID } from 'node:crypto';
import type { RedisServer } from '../support/redis-server';
import { startRedisHarness, type RedisHarness } from '../support/redis-harness';
import { expectBudgetBoundDrain, purgeStepByStep } from '../support/purge-steps';
import { sessionDraft as draft } from '../support/session-draft';

const TENANT = 'acme';
const LIMITS = { maxPayloadBytes: 1024 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RedisSessionRepository against a real Redis', () => {
  let server: RedisServer;
  let client: RedisClient;
  let raw: Redis;
  let repo: RedisSessionRepository;
  const keys = new RedisKeyBuilder('it');
  const space = keys.sessions(TENANT);

  let harness: RedisHarness;

  beforeAll(async () => {
    harness = await startRedisHarness(2000);
    ({ server, client, raw } = harness);
    repo = new RedisSessionRepository(client, keys, new JsonPayloadCodec());
  });

  afterAll(() => harness.stop());

  beforeEach(async () => {
    await raw.flushall();
  });

  /** Every key Redis holds for the tenant (the test server is private, so SCAN is fine here). */
  /** The tenant's data keys; its change feed (the events stream) outlives the data by design. */
  async function tenantKeys(): Promise<string[]> {
    const keys = await raw.keys(`it:{${TENANT}}:*`);
    return keys.filter((key) => key !== `it:{${TENANT}}:events`).sort();
  }

  it('stores a session with its four indexes, membership and expiry entries in one step', async () => {
    const session = draft({ createdBy: 'user:1', status: 'running' });
    const createdAt = await repo.create(TENANT, [session]);

    expect(await repo.get(TENANT, session.id)).toMatchObject({
      id: session.id,
      config: session.config,
      status: 'running',
      createdBy: 'user:1',
      createdAt,
      version: 1,
      expiresAt: createdAt + 3600 * 1000,
    });
    for (const index of [
      space.all,
      space.byStatus('running'),
      space.byCreator('user:1'),
      space.byCreatorAndStatus('user:1', 'running'),
    ]) {
      expect(await raw.zscore(index, session.id)).toBe(String(createdAt));
    }
    expect(await raw.zscore(space.expiry, session.id)).toBe(String(createdAt + 3600 * 1000));
    const ttl = await raw.pttl(space.record(session.id));
    expect(ttl).toBeGreaterThan(3590 * 1000);
  });

  it('moves a session between status indexes when its status changes', async () => {
    const session = draft({ status: 'created' });
    await repo.create(TENANT, [session]);

    const outcome = await repo.update(
      TENANT,
      session.id,
      { status: 'done', statusUpdatedBy: 'orch' },
      LIMITS,
    );

    expect(outcome).toMatchObject({ kind: 'updated', version: 2 });
    expect(await raw.zscore(space.byStatus('created'), session.id)).toBeNull();
    expect(await raw.zscore(space.byCreatorAndStatus('user-1', 'created'), session.id)).toBeNull();
    expect(await raw.zscore(space.byStatus('done'), session.id)).not.toBeNull();
    expect(await raw.zscore(space.byCreatorAndStatus('user-1', 'done'), session.id)).not.toBeNull();
    expect(await repo.get(TENANT, session.id)).toMatchObject({
      status: 'done',
      statusUpdatedBy: 'orch',
    });
  });

  it('leaves no key behind when a session is deleted', async () => {
    const session = draft();
    await repo.create(TENANT, [session]);

    const outcome = await repo.delete(TENANT, [session.id, randomUUID()]);

    expect(outcome).toMatchObject({ kind: 'deleted', deleted: [session.id] });
    expect(outcome.kind === 'deleted' && outcome.missing).toHaveLength(1);
    expect(await tenantKeys()).toEqual([]);
  });

  it('refuses a delete whose expected version is stale, and deletes nothing', async () => {
    const session = draft();
    await repo.create(TENANT, [session]);

    expect(await repo.delete(TENANT, [session.id], 7)).toEqual({
      kind: 'version_mismatch',
      currentVersion: 1,
    });
    expect(await repo.get(TENANT, session.id)).not.toBeNull();
  });

  it('lets exactly one of many parallel writers with the same If-Match version win', async () => {
    const session = draft();
    await repo.create(TENANT, [session]);

    const outcomes = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        repo.update(
          TENANT,
          session.id,
          { metadata: { writer: i } },
          { ...LIMITS, expectedVersion: 1 },
        ),
      ),
    );

    expect(outcomes.filter((o) => o.kind === 'updated')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'version_mismatch')).toHaveLength(24);
    expect((await repo.get(TENANT, session.id))?.version).toBe(2);
  });

  it('applies every parallel write without If-Match, each bumping the version once', async () => {
    const session = draft();
    await repo.create(TENANT, [session]);

    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        repo.update(TENANT, session.id, { metadata: { i } }, LIMITS),
      ),
    );

    expect((await repo.get(TENANT, session.id))?.version).toBe(21);
  });

  it('refuses an update that would make config + metadata exceed the limit, writing nothing', async () => {
    const session = draft();
    await repo.create(TENANT, [session]);

    const outcome = await repo.update(
      TENANT,
      session.id,
      { metadata: { blob: 'x'.repeat(2000) } },
      LIMITS,
    );

    expect(outcome).toMatchObject({ kind: 'too_large' });
    expect(await repo.get(TENANT, session.id)).toMatchObject({ metadata: {}, version: 1 });
  });

  it('resets the TTL on every write', async () => {
    const session = draft({ ttlSeconds: 100 });
    await repo.create(TENANT, [session]);
    await raw.pexpire(space.record(session.id), 5000);

    await repo.update(TENANT, session.id, { metadata: { touched: true } }, LIMITS);

    expect(await raw.pttl(space.record(session.id))).toBeGreaterThan(90_000);
    const stored = await repo.get(TENANT, session.id);
    expect(Number(await raw.zscore(space.expiry, session.id))).toBe(stored?.expiresAt);
  });

  describe('expiry without ghosts', () => {
    it('drops an expired session from reads, lists, counts and every index', async () => {
      const shortLived = draft({ ttlSeconds: 1, status: 'running' });
      const longLived = draft({ status: 'running' });
      await repo.create(TENANT, [shortLived, longLived]);
      await sleep(1100);

      expect(await repo.get(TENANT, shortLived.id)).toBeNull();
      const page = await repo.list(TENANT, {
        status: 'running',
        order: 'asc',
        limit: 10,
        offset: 0,
      });
      expect(page.totalCount).toBe(1);
      expect(page.sessions.map((s) => s.id)).toEqual([longLived.id]);
      for (const index of [
        space.all,
        space.byStatus('running'),
        space.byCreator('user-1'),
        space.expiry,
      ]) {
        expect(await raw.zscore(index, shortLived.id)).toBeNull();
      }
      expect(await raw.hget(space.members, shortLived.id)).toBeNull();
    });

    it('cleans more expired sessions than one purge batch takes before answering a list', async () => {
      const many = Array.from({ length: 300 }, () => draft({ ttlSeconds: 1 }));
      await repo.create(TENANT, many);
      const survivor = draft();
      await repo.create(TENANT, [survivor]);
      await sleep(1100);

      const page = await repo.list(TENANT, { order: 'desc', limit: 5, offset: 0 });

      expect(page.totalCount).toBe(1);
      expect(page.sessions.map((s) => s.id)).toEqual([survivor.id]);
      expect(await raw.zcard(space.expiry)).toBe(1);
    });

    it('answers 503 (busy) rather than drain a backlog beyond its share, which the sweeper clears', async () => {
      const backlog = Array.from({ length: 1500 }, () => draft({ ttlSeconds: 1 }));
      for (let i = 0; i < backlog.length; i += 500) {
        await repo.create(TENANT, backlog.slice(i, i + 500));
      }
      const survivor = draft();
      await repo.create(TENANT, [survivor]);
      await sleep(1100);

      await expect(repo.list(TENANT, { order: 'desc', limit: 5, offset: 0 })).rejects.toMatchObject(
        { name: 'StoreUnavailableError', failure: 'busy' },
      );
      // The request did its bounded share, no more.
      const left = await raw.zcard(space.expiry);
      expect(left).toBeGreaterThan(1);
      expect(left).toBeLessThan(1500);

      while ((await repo.purgeExpired(TENANT, 100)).more) {
        // the sweeper's loop
      }
      const page = await repo.list(TENANT, { order: 'desc', limit: 5, offset: 0 });
      expect(page.sessions.map((s) => s.id)).toEqual([survivor.id]);
    });

    it('drains a 30,000-session backlog to zero by repeated bounded purge calls', async () => {
      const statuses = ['created', 'running', 'paused'];
      const backlog = Array.from({ length: 30_000 }, (_, i) =>
        draft({ ttlSeconds: 1, createdBy: `user-${i % 7}`, status: statuses[i % 3] }),
      );
      for (let i = 0; i < backlog.length; i += 500) {
        await repo.create(TENANT, backlog.slice(i, i + 500));
      }
      await sleep(1100);

      let calls = 0;
      let removed = 0;
      for (;;) {
        const step = await repo.purgeExpired(TENANT, 100);
        calls++;
        removed += step.removed;
        if (!step.more) break;
      }
      // No call took more than its 100, and the loop did not stop before the backlog was gone:
      // every index, the membership hash and the expiry index are empty. The reported counts add
      // up to exactly what was there, whether calls stopped on their cap or their time budget.
      expect(calls).toBeGreaterThanOrEqual(300);
      expect(removed).toBe(30_000);
      expect(await raw.zcard(space.expiry)).toBe(0);
      expect(await raw.zcard(space.all)).toBe(0);
      expect(await raw.hlen(space.members)).toBe(0);
      expect(await tenantKeys()).toEqual([]);
      const events = await raw.xlen(`it:{${TENANT}}:events`);
      expect(events).toBe(60_000);
    });

    it('purges a tenant nobody lists (the sweeper path), bounded per call', async () => {
      await repo.create(
        TENANT,
        Array.from({ length: 30 }, () => draft({ ttlSeconds: 1 })),
      );
      await sleep(1100);

      expect(await repo.purgeExpired(TENANT, 20)).toEqual({ removed: 20, more: true });
      expect(await repo.purgeExpired(TENANT, 20)).toEqual({ removed: 10, more: false });
      expect(await tenantKeys()).toEqual([]);
      const tenants: string[] = [];
      for await (const batch of repo.tenants()) tenants.push(...batch);
      expect(tenants).toEqual([TENANT]);
    });

    it('a purge that stops on its time budget reports the sessions it removed, not its cap', async () => {
      const doomed = Array.from({ length: 60 }, () => draft({ ttlSeconds: 1 }));
      await repo.create(TENANT, doomed);
      await sleep(1100);
      // Each expired session keeps one memory record with a 10,000-field data hash (seeded without
      // a TTL, so Redis cannot drop it first): the cascade frees 600k fields, far beyond one call's
      // 4 ms of Redis time, so calls stop on the budget well before their cap of 100.
      const memory = keys.memory(TENANT);
      const fields = Array.from({ length: 10_000 }, (_, f) => [`f${f}`, '1']).flat();
      const seeding = raw.pipeline();
      for (const { id } of doomed) {
        seeding.hset(memory.record('agent-0', id), 'memory_id', `m-${id}`);
        seeding.hset(memory.data('agent-0', id), ...fields);
        seeding.zadd(memory.bySession(id), 0, 'agent-0');
      }
      await seeding.exec();

      const steps = await purgeStepByStep(
        () => repo.purgeExpired(TENANT, 100),
        () => raw.zcard(space.expiry),
      );
      expect(steps.length).toBeGreaterThan(1);
      // The first call stopped on its budget with sessions left, and said so.
      expectBudgetBoundDrain(steps, doomed.length);
      expect(await raw.zcard(space.expiry)).toBe(0);
      expect(await raw.keys(`${memory.dataPrefix}*`)).toEqual([]);
    }, 60_000);
  });

  describe('lists', () => {
    async function seed(count: number): Promise<StoredSession[]> {
      const created: StoredSession[] = [];
      for (let i = 0; i < count; i++) {
        const session = draft({
          createdBy: i % 2 === 0 ? 'even' : 'odd',
          status: i % 3 === 0 ? 'a' : 'b',
        });
        await repo.create(TENANT, [session]);
        created.push((await repo.get(TENANT, session.id))!);
      }
      return created;
    }

    it('pages by offset in both orders with an exact total', async () => {
      const all = await seed(7);
      const ascIds = [...all]
        .sort((x, y) => x.createdAt - y.createdAt || (x.id < y.id ? -1 : 1))
        .map((s) => s.id);

      const first = await repo.list(TENANT, { order: 'asc', limit: 3, offset: 0 });
      const last = await repo.list(TENANT, { order: 'asc', limit: 3, offset: 6 });
      const desc = await repo.list(TENANT, { order: 'desc', limit: 7, offset: 0 });

      expect(first).toMatchObject({ totalCount: 7, hasMore: true });
      expect(first.sessions.map((s) => s.id)).toEqual(ascIds.slice(0, 3));
      expect(last).toMatchObject({ totalCount: 7, hasMore: false });
      expect(last.sessions.map((s) => s.id)).toEqual(ascIds.slice(6));
      expect(desc.sessions.map((s) => s.id)).toEqual([...ascIds].reverse());
    });

    it('combines creator, status and time filters', async () => {
      const all = await seed(12);
      const expected = all.filter((s) => s.createdBy === 'even' && s.status === 'a');
      const from = all[2].createdAt;
      const until = all[9].createdAt;
      const inWindow = expected.filter((s) => s.createdAt >= from && s.createdAt <= until);

      const page = await repo.list(TENANT, {
        createdBy: 'even',
        status: 'a',
        order: 'asc',
        limit: 100,
        offset: 0,
      });
      const windowed = await repo.list(TENANT, {
        createdBy: 'even',
        status: 'a',
        createdFrom: from,
        createdUntil: until,
        order: 'desc',
        limit: 100,
        offset: 0,
      });

      expect(page.totalCount).toBe(expected.length);
      expect(new Set(page.sessions.map((s) => s.id))).toEqual(new Set(expected.map((s) => s.id)));
      expect(windowed.totalCount).toBe(inWindow.length);
      expect(new Set(windowed.sessions.map((s) => s.id))).toEqual(
        new Set(inWindow.map((s) => s.id)),
      );
    });

    it.each(['asc', 'desc'] as const)(
      'walks every session exactly once by cursor (%s), even when the cursor item is deleted',
      async (order) => {
        await repo.create(
          TENANT,
          Array.from({ length: 25 }, () => draft()),
        );
        const seen: string[] = [];
        let page = await repo.list(TENANT, { order, limit: 4, offset: 0 });
        seen.push(...page.sessions.map((s) => s.id));
        let round = 0;
        while (page.hasMore) {
          const last = page.sessions[page.sessions.length - 1];
          if (round++ === 1) await repo.delete(TENANT, [last.id]);
          page = await repo.list(TENANT, {
            order,
            limit: 4,
            offset: 0,
            after: { createdAt: last.createdAt, id: last.id },
          });
          seen.push(...page.sessions.map((s) => s.id));
        }
        expect(seen).toHaveLength(25);
        expect(new Set(seen).size).toBe(25);
        // Paging never writes: the index holds exactly the sessions left.
        expect(await raw.zcard(space.all)).toBe(24);
      },
    );
  });

  describe('when Redis goes away', () => {
    it('fails fast with StoreUnavailableError and recovers by itself when Redis returns', async () => {
      const session = draft();
      await repo.create(TENANT, [session]);
      await server.stop();

      const started = Date.now();
      await expect(repo.get(TENANT, session.id)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(repo.list(TENANT, { order: 'asc', limit: 1, offset: 0 })).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      expect(Date.now() - started).toBeLessThan(1500);

      await server.restart();
      await raw.ping().catch(() => undefined);
      let recovered = false;
      for (let i = 0; i < 60 && !recovered; i++) {
        recovered = await repo.create(TENANT, [draft()]).then(
          () => true,
          () => false,
        );
        if (!recovered) await sleep(100);
      }
      expect(recovered).toBe(true);
    });
  });
});
