import Redis from 'ioredis';
import { randomBytes, randomUUID } from 'node:crypto';
import { parseKeyRing } from '@app/redis/codecs/key-ring';
import { LayeredPayloadCodec } from '@app/redis/codecs/layered-payload-codec';
import type { RedisClient } from '@app/redis/connection/redis-client.factory';
import { MemoryKeyspace, type MemoryType } from '@app/redis/keys/memory-keyspace';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import type { NewMemory } from '@app/redis/memory/memory.repository';
import { VIEWER_SCOPE_MAX } from '@app/redis/memory/memory.scripts';
import { RedisMemoryRepository } from '@app/redis/memory/redis-memory.repository';
import { JsonPayloadCodec } from '@app/redis/payload-codec';
import { RedisSessionRepository } from '@app/redis/sessions/redis-session.repository';
import { startRedisHarness, type RedisHarness } from '../support/redis-harness';
import { expectBudgetBoundDrain, purgeStepByStep } from '../support/purge-steps';

const TENANT = 'acme';
const GUARDS = { maxDataBytes: 4096 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RedisMemoryRepository against a real Redis', () => {
  let client: RedisClient;
  let raw: Redis;
  let repo: RedisMemoryRepository;
  let sessions: RedisSessionRepository;
  const keys = new RedisKeyBuilder('it');
  const space = keys.memory(TENANT);

  let harness: RedisHarness;

  beforeAll(async () => {
    harness = await startRedisHarness(1000);
    ({ client, raw } = harness);
    repo = new RedisMemoryRepository(client, keys, new JsonPayloadCodec());
    sessions = new RedisSessionRepository(client, keys, new JsonPayloadCodec());
  });

  afterAll(() => harness.stop());

  beforeEach(async () => {
    await raw.flushall();
  });

  async function session(ttlSeconds = 3600): Promise<string> {
    const id = randomUUID();
    await sessions.create(TENANT, [
      { id, config: {}, metadata: {}, status: 'created', createdBy: 'u', ttlSeconds },
    ]);
    return id;
  }

  function memory(overrides: Partial<NewMemory> & { sessionId: string }): NewMemory {
    return {
      memoryId: randomUUID(),
      agentId: 'agent-a',
      memoryType: 'working',
      data: { step: 1 },
      createdBy: 'orch',
      ttlSeconds: 3600,
      ...overrides,
    };
  }

  async function create(overrides: Partial<NewMemory> & { sessionId: string }) {
    const draft = memory(overrides);
    const outcome = await repo.create(TENANT, draft, GUARDS.maxDataBytes);
    expect(outcome.kind).toBe('created');
    return draft;
  }

  async function memoryKeys(): Promise<string[]> {
    return (await raw.keys(`it:{${TENANT}}:memory*`)).sort();
  }

  it('stores a record with its data hash, indexes, membership and expiry in one step', async () => {
    // The session outlives the record, so the record's own expiry is the one reported.
    const sessionId = await session(7200);
    const draft = await create({ sessionId, agentId: 'agent:1', data: { a: 1, b: { c: [1, 2] } } });

    const stored = await repo.get(TENANT, 'agent:1', sessionId);
    expect(stored).toMatchObject({
      memoryId: draft.memoryId,
      agentId: 'agent:1',
      sessionId,
      memoryType: 'working',
      data: { a: 1, b: { c: [1, 2] } },
      createdBy: 'orch',
      version: 1,
    });
    expect(stored!.expiresAt - stored!.createdAt).toBe(3600_000);
    expect(await raw.zscore(space.byAgent('agent:1'), sessionId)).toBe(String(stored!.createdAt));
    expect(await raw.zscore(space.byAgent('agent:1', 'working'), sessionId)).not.toBeNull();
    expect(await raw.zscore(space.bySession(sessionId), 'agent%3A1')).not.toBeNull();
    expect(await raw.zscore(space.bySession(sessionId, 'working'), 'agent%3A1')).not.toBeNull();
    expect(await raw.hget(space.data('agent:1', sessionId), 'b')).toBe('{"c":[1,2]}');
    expect(await raw.pttl(space.data('agent:1', sessionId))).toBeGreaterThan(3590_000);
  });

  it('refuses a record for a missing session and a second record for the same pair', async () => {
    expect((await repo.create(TENANT, memory({ sessionId: randomUUID() }), 4096)).kind).toBe(
      'session_not_found',
    );
    const sessionId = await session();
    const first = await create({ sessionId });
    expect(await repo.create(TENANT, memory({ sessionId }), 4096)).toEqual({
      kind: 'exists',
      memoryId: first.memoryId,
    });
  });

  it('replaces data and moves the record between type indexes, with If-Match', async () => {
    const sessionId = await session();
    await create({ sessionId, data: { old: true } });

    expect(
      await repo.replace(
        TENANT,
        'agent-a',
        sessionId,
        { memoryType: 'shared' },
        { ...GUARDS, expectedVersion: 5 },
      ),
    ).toEqual({ kind: 'version_mismatch', currentVersion: 1 });
    const outcome = await repo.replace(
      TENANT,
      'agent-a',
      sessionId,
      { data: { fresh: 1 }, memoryType: 'shared', updatedBy: 'agent-a' },
      { ...GUARDS, expectedVersion: 1 },
    );
    expect(outcome).toMatchObject({ kind: 'updated', version: 2 });
    expect(await repo.get(TENANT, 'agent-a', sessionId)).toMatchObject({
      data: { fresh: 1 },
      memoryType: 'shared',
      updatedBy: 'agent-a',
    });
    expect(await raw.zscore(space.byAgent('agent-a', 'working'), sessionId)).toBeNull();
    expect(await raw.zscore(space.byAgent('agent-a', 'shared'), sessionId)).not.toBeNull();
    expect(await raw.zscore(space.bySession(sessionId, 'shared'), 'agent-a')).not.toBeNull();
  });

  it('merges per RFC 7396: null deletes, objects merge deeply, arrays and scalars replace', async () => {
    const sessionId = await session();
    await create({
      sessionId,
      data: { keep: 1, drop: 2, list: [1, 2], nested: { x: 1, y: { z: 1 } } },
    });

    const outcome = await repo.mergePatch(
      TENANT,
      'agent-a',
      sessionId,
      {
        drop: null,
        list: [3],
        nested: { y: { z: null, w: 2 }, v: 'new' },
        added: { a: null, b: 1 },
      },
      'agent-b',
      GUARDS,
    );
    expect(outcome).toMatchObject({ kind: 'updated', version: 2 });
    const stored = await repo.get(TENANT, 'agent-a', sessionId);
    expect(stored?.data).toEqual({
      keep: 1,
      list: [3],
      nested: { x: 1, y: { w: 2 }, v: 'new' },
      added: { b: 1 },
    });
    expect(stored?.updatedBy).toBe('agent-b');
    expect(await raw.hexists(space.data('agent-a', sessionId), 'drop')).toBe(0);
  });

  it('loses no key when 20 merges of distinct top-level keys and 10 of one nested object race', async () => {
    const sessionId = await session();
    await create({ sessionId, data: {} });

    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) =>
        repo.mergePatch(TENANT, 'agent-a', sessionId, { [`k${i}`]: i }, undefined, GUARDS),
      ),
      ...Array.from({ length: 10 }, (_, i) =>
        repo.mergePatch(
          TENANT,
          'agent-a',
          sessionId,
          { notes: { [`n${i}`]: i } },
          undefined,
          GUARDS,
        ),
      ),
    ]);

    const stored = await repo.get(TENANT, 'agent-a', sessionId);
    for (let i = 0; i < 20; i++) expect(stored?.data[`k${i}`]).toBe(i);
    expect(Object.keys(stored?.data.notes as object).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `n${i}`).sort(),
    );
    expect(stored?.version).toBe(31);
  });

  it('enforces the data size limit on merges, counting replaced and deleted keys', async () => {
    const sessionId = await session();
    await create({ sessionId, data: { big: 'x'.repeat(3000) } });

    expect(
      await repo.mergePatch(
        TENANT,
        'agent-a',
        sessionId,
        { more: 'y'.repeat(2000) },
        undefined,
        GUARDS,
      ),
    ).toMatchObject({ kind: 'too_large' });
    expect(
      await repo.mergePatch(
        TENANT,
        'agent-a',
        sessionId,
        { big: null, more: 'y'.repeat(2000) },
        undefined,
        GUARDS,
      ),
    ).toMatchObject({ kind: 'updated' });
  });

  it('answers not_found to writes of a missing record and deletes with its indexes', async () => {
    const sessionId = await session();
    expect(
      (await repo.mergePatch(TENANT, 'nobody', sessionId, { a: { b: 1 } }, undefined, GUARDS)).kind,
    ).toBe('not_found');
    await create({ sessionId });
    expect(await repo.delete(TENANT, 'agent-a', sessionId, 9)).toEqual({
      kind: 'version_mismatch',
      currentVersion: 1,
    });
    expect(await repo.delete(TENANT, 'agent-a', sessionId)).toMatchObject({
      kind: 'deleted',
      existed: true,
    });
    expect(await repo.delete(TENANT, 'agent-a', sessionId)).toMatchObject({
      kind: 'deleted',
      existed: false,
    });
    expect(await memoryKeys()).toEqual([]);
  });

  it('lists one agent newest first, by type and created_at, by offset and by cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const sessionId = await session();
      ids.push(sessionId);
      await create({ sessionId, memoryType: i % 2 === 0 ? 'working' : 'persistent', data: { i } });
      await sleep(3);
    }
    await create({ sessionId: ids[0], agentId: 'agent-b' });

    const all = await repo.listByAgent(TENANT, 'agent-a', { limit: 2, offset: 0 });
    expect(all.totalCount).toBe(5);
    expect(all.hasMore).toBe(true);
    expect(all.records.map((r) => r.data.i)).toEqual([4, 3]);

    const persistent = await repo.listByAgent(TENANT, 'agent-a', {
      memoryType: 'persistent',
      limit: 10,
      offset: 0,
    });
    expect(persistent.records.map((r) => r.data.i)).toEqual([3, 1]);

    const seen: unknown[] = [];
    let after: { createdAt: number; sessionId: string } | undefined;
    for (;;) {
      const page = await repo.listByAgent(TENANT, 'agent-a', { limit: 2, offset: 0, after });
      seen.push(...page.records.map((r) => r.data.i));
      if (!page.hasMore) break;
      const last = page.records[page.records.length - 1];
      after = { createdAt: last.createdAt, sessionId: last.sessionId };
    }
    expect(seen).toEqual([4, 3, 2, 1, 0]);

    const recent = await repo.listByAgent(TENANT, 'agent-a', {
      createdFrom: all.records[1].createdAt,
      limit: 10,
      offset: 0,
    });
    expect(recent.totalCount).toBe(2);
  });

  describe('cross-agent queries', () => {
    let s1: string;
    let s2: string;
    let s3: string;

    beforeEach(async () => {
      [s1, s2, s3] = [await session(), await session(), await session()];
      const rows: [string, string, MemoryType][] = [
        ['a', s1, 'working'],
        ['b', s1, 'shared'],
        ['c', s1, 'working'],
        ['b', s2, 'shared'],
        ['c', s2, 'shared'],
        ['a', s3, 'shared'],
      ];
      for (const [agentId, sessionId, memoryType] of rows) {
        await create({ agentId, sessionId, memoryType, data: { who: agentId } });
      }
    });

    const pairs = (records: { agentId: string; sessionId: string }[]) =>
      records.map((r) => `${r.agentId}@${[s1, s2, s3].indexOf(r.sessionId) + 1}`).sort();

    it('answers by session, by agents, by both, and by type, with exact totals', async () => {
      const bySession = await repo.query(TENANT, { agentIds: [], sessionIds: [s1], limit: 100 });
      expect(bySession.totalCount).toBe(3);
      expect(pairs(bySession.records)).toEqual(['a@1', 'b@1', 'c@1']);

      const byAgents = await repo.query(TENANT, { agentIds: ['b', 'c'], sessionIds: [], limit: 3 });
      expect(byAgents.totalCount).toBe(4);
      expect(byAgents.records).toHaveLength(3);

      const both = await repo.query(TENANT, {
        agentIds: ['a', 'c'],
        sessionIds: [s1, s2],
        limit: 100,
      });
      expect(pairs(both.records)).toEqual(['a@1', 'c@1', 'c@2']);

      const shared = await repo.query(TENANT, {
        agentIds: ['a', 'b', 'c'],
        sessionIds: [],
        memoryType: 'shared',
        limit: 100,
      });
      expect(pairs(shared.records)).toEqual(['a@3', 'b@1', 'b@2', 'c@2']);
    });

    it('shows a viewer its own records plus shared ones of sessions where it has memory', async () => {
      // a has memory in s1 and s3: sees a@1, a@3 and b@1 (shared), never c@1 (working) or s2.
      const everything = await repo.query(TENANT, {
        agentIds: ['a', 'b', 'c'],
        sessionIds: [],
        limit: 100,
        viewer: 'a',
      });
      expect(pairs(everything.records)).toEqual(['a@1', 'a@3', 'b@1']);
      expect(everything.totalCount).toBe(3);

      const s2view = await repo.query(TENANT, {
        agentIds: [],
        sessionIds: [s2],
        limit: 100,
        viewer: 'a',
      });
      expect(s2view).toEqual({ totalCount: 0, hasMore: false, records: [] });

      const s1view = await repo.query(TENANT, {
        agentIds: [],
        sessionIds: [s1],
        limit: 100,
        viewer: 'a',
      });
      expect(pairs(s1view.records)).toEqual(['a@1', 'b@1']);
    });

    it('pages every query by offset and by cursor, with has_more, and the pages add up', async () => {
      type Query = Parameters<typeof repo.query>[1];
      const selections: Query[] = [
        { agentIds: [], sessionIds: [s1], limit: 2 },
        { agentIds: ['a', 'b', 'c'], sessionIds: [], limit: 2 },
        { agentIds: ['a', 'b', 'c'], sessionIds: [s1, s2, s3], limit: 2 },
        { agentIds: ['a', 'b', 'c'], sessionIds: [], limit: 1, viewer: 'a' },
      ];
      for (const selection of selections) {
        const all = await repo.query(TENANT, { ...selection, limit: 100 });
        expect(all.hasMore).toBe(false);

        const byOffset: typeof all.records = [];
        for (let offset = 0; ; offset += selection.limit) {
          const page = await repo.query(TENANT, { ...selection, offset });
          expect(page.totalCount).toBe(all.totalCount);
          byOffset.push(...page.records);
          expect(page.hasMore).toBe(byOffset.length < all.totalCount);
          if (!page.hasMore) break;
        }
        expect(byOffset.map((r) => r.memoryId)).toEqual(all.records.map((r) => r.memoryId));

        const byCursor: typeof all.records = [];
        let after: Query['after'];
        for (;;) {
          const page = await repo.query(TENANT, { ...selection, after });
          byCursor.push(...page.records);
          const last = page.records[page.records.length - 1];
          if (!page.hasMore) break;
          after = { createdAt: last.createdAt, agentId: last.agentId, sessionId: last.sessionId };
        }
        expect(byCursor.map((r) => r.memoryId)).toEqual(all.records.map((r) => r.memoryId));
      }
    });

    it('says sessionMissing when the one session required does not exist', async () => {
      const missing = await repo.query(TENANT, {
        agentIds: [],
        sessionIds: [randomUUID()],
        limit: 10,
        requireSession: true,
      });
      expect(missing.sessionMissing).toBe(true);
      const present = await repo.query(TENANT, {
        agentIds: [],
        sessionIds: [s1],
        limit: 10,
        requireSession: true,
      });
      expect(present.sessionMissing).toBeUndefined();
      expect(present.totalCount).toBe(3);
    });
  });

  it('reports the session’s expiry when the session dies before the record would', async () => {
    const sessionId = await session(120);
    await create({ sessionId, ttlSeconds: 3600 });
    const stored = await repo.get(TENANT, 'agent-a', sessionId);
    const sessionExpiry = Number(
      await raw.hget(`it:{${TENANT}}:session:${sessionId}`, 'expires_at'),
    );
    expect(sessionExpiry).toBeGreaterThan(0);
    expect(stored!.expiresAt).toBe(sessionExpiry);
    const listed = await repo.listByAgent(TENANT, 'agent-a', { limit: 10, offset: 0 });
    expect(listed.records[0].expiresAt).toBe(sessionExpiry);
    const queried = await repo.query(TENANT, { agentIds: [], sessionIds: [sessionId], limit: 10 });
    expect(queried.records[0].expiresAt).toBe(sessionExpiry);
  });

  it('hides expired records from reads, lists and counts, and purges their index entries', async () => {
    const sessionId = await session();
    await create({ sessionId, agentId: 'short', ttlSeconds: 1 });
    await create({ sessionId, agentId: 'long' });
    await sleep(1100);

    expect(await repo.get(TENANT, 'short', sessionId)).toBeNull();
    expect((await repo.listByAgent(TENANT, 'short', { limit: 10, offset: 0 })).totalCount).toBe(0);
    const query = await repo.query(TENANT, { agentIds: [], sessionIds: [sessionId], limit: 10 });
    expect(query.totalCount).toBe(1);
    expect(await raw.zscore(space.bySession(sessionId), 'short')).toBeNull();
    expect(await raw.hexists(space.members, `short:${sessionId}`)).toBe(0);
  });

  it('a purge of expired records stops on its time budget between chunks, reporting what it removed; the loop removes them all', async () => {
    // 100 expired records Redis has not dropped yet, each with a 5,000-field data hash: freeing
    // 500k fields takes far more than one call's 4 ms of Redis time on any machine.
    const fields = Array.from({ length: 5000 }, (_, f) => [`f${f}`, '1']).flat();
    const sessionId = randomUUID();
    const seeding = raw.pipeline();
    for (let i = 0; i < 100; i++) {
      const agent = `agent-${i}`;
      seeding.hset(space.record(agent, sessionId), 'memory_id', `m${i}`);
      seeding.hset(space.data(agent, sessionId), ...fields);
      seeding.zadd(space.expiry, 1, MemoryKeyspace.member(agent, sessionId));
    }
    await seeding.exec();

    // Each call reports what it really removed (whole chunks), and `more` until nothing is left.
    const steps = await purgeStepByStep(
      () => repo.purgeExpired(TENANT, 100),
      () => raw.zcard(space.expiry),
    );
    expectBudgetBoundDrain(steps, 100); // the first call stopped on its budget, not its cap
    expect(steps[0].removed % 20).toBe(0);
    expect(await raw.zcard(space.expiry)).toBe(0);
    expect(await raw.keys(`${space.dataPrefix}*`)).toEqual([]);
    expect(await raw.xlen(`it:{${TENANT}}:events`)).toBe(100); // one memory.expired each
  });

  it('removes a session’s memory and index entries in the session delete, reporting the count', async () => {
    const doomed = await session();
    const kept = await session();
    await create({ sessionId: doomed, agentId: 'a', memoryType: 'shared' });
    await create({ sessionId: doomed, agentId: 'b' });
    await create({ sessionId: kept, agentId: 'a' });

    const outcome = await sessions.delete(TENANT, [doomed]);
    expect(outcome).toMatchObject({ kind: 'deleted', deleted: [doomed], memoryRecordsDeleted: 2 });
    const left = await memoryKeys();
    expect(left.filter((key) => key.includes(doomed))).toEqual([]);
    expect(await raw.zrange(space.byAgent('a'), '0', '-1')).toEqual([kept]);
    expect(await raw.hkeys(space.members)).toEqual([`a:${kept}`]);
    expect(await repo.get(TENANT, 'a', kept)).not.toBeNull();
  });

  it('removes a session’s memory when the expired session is purged', async () => {
    const sessionId = await session(1);
    await create({ sessionId, agentId: 'a' });
    await sleep(1100);

    expect(await sessions.purgeExpired(TENANT, 100)).toEqual({ removed: 1, more: false });
    expect(await memoryKeys()).toEqual([]);
  });

  it('purges an expired session with more memory than one call may remove, over several calls', async () => {
    const sessionId = await session(1);
    const agents = Array.from({ length: 250 }, (_, i) => `agent-${i}`);
    await Promise.all(agents.map((agentId) => create({ sessionId, agentId })));
    await sleep(1100);

    // Each call does at most 100 units of work (records, then the session), fewer when it runs out
    // of time first (a loaded machine): 250 + 1 take at least three, and the loop ends drained.
    let calls = 0;
    let left = await raw.hlen(space.members);
    for (;;) {
      const reply = await sessions.purgeExpired(TENANT, 100);
      calls++;
      const now = await raw.hlen(space.members);
      expect(left - now).toBeLessThanOrEqual(100);
      left = now;
      if (!reply.more) break;
    }
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(await memoryKeys()).toEqual([]);
    expect(await raw.zcard(keys.sessions(TENANT).expiry)).toBe(0);
  });

  it('refuses an agent-only query over more sessions than it may walk, naming the limit', async () => {
    const ids = await Promise.all(Array.from({ length: VIEWER_SCOPE_MAX + 1 }, () => session()));
    await Promise.all(ids.map((sessionId) => create({ sessionId, agentId: 'hoarder' })));

    const broad = await repo.query(TENANT, {
      agentIds: ['hoarder'],
      sessionIds: [],
      limit: 10,
      viewer: 'hoarder',
    });
    expect(broad).toMatchObject({ records: [], scopeTooBroad: VIEWER_SCOPE_MAX });
    // Naming the sessions keeps it bounded, and answers.
    const named = await repo.query(TENANT, {
      agentIds: ['hoarder'],
      sessionIds: ids.slice(0, 3),
      limit: 10,
      viewer: 'hoarder',
    });
    expect(named.records).toHaveLength(3);
  });

  it('keeps memory_data encrypted at rest when the codec has a key ring', async () => {
    const codec = new LayeredPayloadCodec({
      compressionMinBytes: 1024,
      encryptionKeys: parseKeyRing(`k1:${randomBytes(32).toString('base64')}`),
    });
    const sealed = new RedisMemoryRepository(client, keys, codec);
    const sessionId = await session();
    await sealed.create(TENANT, memory({ sessionId, data: { secret: 'launch-codes' } }), 4096);
    await sealed.mergePatch(
      TENANT,
      'agent-a',
      sessionId,
      { more: { secret2: 'x' } },
      undefined,
      GUARDS,
    );

    const stored = await raw.hgetall(space.data('agent-a', sessionId));
    expect(stored.secret).toMatch(/^v1:aes256gcm:k1:/);
    expect(JSON.stringify(stored)).not.toContain('launch-codes');
    expect((await sealed.get(TENANT, 'agent-a', sessionId))?.data).toEqual({
      secret: 'launch-codes',
      more: { secret2: 'x' },
    });
  });
});
