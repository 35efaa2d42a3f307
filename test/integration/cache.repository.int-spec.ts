import Redis from 'ioredis';
import { compileCacheGlob } from '@app/redis/cache/cache-glob';
import type { NewCacheEntry } from '@app/redis/cache/cache.repository';
import { INVALIDATE_CACHE_PATTERN_STEP } from '@app/redis/cache/cache.scripts';
import { INVALIDATION_STEP, RedisCacheRepository } from '@app/redis/cache/redis-cache.repository';
import type { RedisClient } from '@app/redis/connection/redis-client.factory';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import { JsonPayloadCodec, PayloadCodec } from '@app/redis/payload-codec';
import { instrumentRepository, type StoreObserver } from '@app/redis/observability/store-observer';
import { TenantRegistry } from '@app/redis/tenant-registry';
import { startRedisHarness, type RedisHarness } from '../support/redis-harness';
import { expectBudgetBoundDrain, purgeStepByStep } from '../support/purge-steps';

const TENANT = 'acme';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function entry(key: string, overrides: Partial<NewCacheEntry> = {}): NewCacheEntry {
  return { key, data: { v: key }, ttlSeconds: 3600, tags: [], onlyIfAbsent: false, ...overrides };
}

/** Proves the repository stores what the codec makes, not JSON of its own. */
class MarkingCodec extends PayloadCodec {
  private readonly json = new JsonPayloadCodec();
  encode(value: unknown): string {
    return `m1:${this.json.encode(value)}`;
  }
  decode(stored: string): unknown {
    if (!stored.startsWith('m1:')) throw new Error('not encoded by MarkingCodec');
    return this.json.decode(stored.slice(3));
  }
}

describe('RedisCacheRepository against a real Redis', () => {
  let client: RedisClient;
  let raw: Redis;
  let repo: RedisCacheRepository;
  const keys = new RedisKeyBuilder('it');
  const space = keys.cache(TENANT);

  let harness: RedisHarness;

  beforeAll(async () => {
    // Generous: the 100k seeding shares a loaded CI machine, and no test here is about timeouts.
    harness = await startRedisHarness(10_000);
    ({ client, raw } = harness);
    repo = new RedisCacheRepository(client, keys, new MarkingCodec());
  });

  afterAll(() => harness.stop());

  beforeEach(async () => {
    // Hit/miss counts of the previous test are flushed in the background: send them now, then wipe.
    await repo.onApplicationShutdown();
    await raw.flushall();
  });

  /** The tenant's data keys; its change feed (the events stream) outlives the data by design. */
  async function tenantKeys(): Promise<string[]> {
    const keys = await raw.keys(`it:{${TENANT}}:*`);
    return keys.filter((key) => key !== `it:{${TENANT}}:events`).sort();
  }

  // 500 writes in flight at a time: enough to seed fast, few enough that none waits in the queue
  // longer than the command timeout on a loaded CI machine.
  async function seed(count: number, key: (i: number) => string, chunk = 500): Promise<void> {
    for (let start = 0; start < count; start += chunk) {
      const writes: Promise<unknown>[] = [];
      for (let i = start; i < Math.min(start + chunk, count); i++)
        writes.push(repo.set(TENANT, entry(key(i), { data: i })));
      await Promise.all(writes);
    }
  }

  it('stores the entry through the codec, in the key index and every tag index, with a Redis expiry', async () => {
    const stored = await repo.set(
      TENANT,
      entry('tool:search:q1', { tags: ['search', 'user-1'], ttlSeconds: 60 }),
    );

    expect(stored).toEqual({
      kind: 'stored',
      cachedAt: expect.any(Number),
      expiresAt: expect.any(Number),
    });
    if (stored.kind !== 'stored') return;
    expect(stored.expiresAt - stored.cachedAt).toBe(60_000);
    expect(await raw.hget(space.entry('tool:search:q1'), 'data')).toBe('m1:{"v":"tool:search:q1"}');
    expect(await raw.pexpiretime(space.entry('tool:search:q1'))).toBe(stored.expiresAt);
    expect(await raw.zscore(space.index, 'tool:search:q1')).toBe('0');
    expect(await raw.zscore(space.expiry, 'tool:search:q1')).toBe(String(stored.expiresAt));
    expect(await raw.zscore(space.tag('search'), 'tool:search:q1')).toBe(String(stored.expiresAt));
    expect(await raw.zscore(space.tag('user-1'), 'tool:search:q1')).toBe(String(stored.expiresAt));
    expect((await raw.smembers(space.tagRegistry)).sort()).toEqual(['search', 'user-1']);
    expect(await raw.sismember(new TenantRegistry(raw, keys).shardOf(TENANT), TENANT)).toBe(1);

    expect(await repo.get(TENANT, 'tool:search:q1')).toEqual({
      key: 'tool:search:q1',
      data: { v: 'tool:search:q1' },
      tags: ['search', 'user-1'],
      cachedAt: stored.cachedAt,
      expiresAt: stored.expiresAt,
    });
  });

  it('counts a hit or a miss per lookup in process, and flushes the counts without a read writing', async () => {
    const fresh = new RedisCacheRepository(client, keys, new JsonPayloadCodec());
    await fresh.set(TENANT, entry('a'));
    await raw.config('SET', 'maxmemory', '1');
    try {
      // Redis refuses every write now; reads (and their counting) go on.
      await expect(fresh.set(TENANT, entry('b'))).rejects.toMatchObject({
        failure: 'out_of_memory',
      });
      await fresh.get(TENANT, 'a');
      await fresh.get(TENANT, 'nope');
      await fresh.getMany(TENANT, ['a', 'b', 'c']);
      expect(await fresh.stats(TENANT)).toEqual({ hits: 2, misses: 3 });
      // The flush fails while Redis is full and keeps the counts for the next one.
      await fresh.onApplicationShutdown();
      expect(await raw.hgetall(keys.cache(TENANT).stats)).toEqual({});
    } finally {
      await raw.config('SET', 'maxmemory', '0');
    }
    await fresh.onApplicationShutdown();
    expect(await raw.hgetall(keys.cache(TENANT).stats)).toEqual({ hits: '2', misses: '3' });
    expect(await fresh.stats(TENANT)).toEqual({ hits: 2, misses: 3 });
    expect(await fresh.stats('other')).toEqual({ hits: 0, misses: 0 });
  });

  it('replacing an entry moves it out of the tags it no longer carries', async () => {
    await repo.set(TENANT, entry('k', { tags: ['old', 'kept'] }));
    await repo.set(TENANT, entry('k', { tags: ['kept', 'new'], data: 2 }));

    expect(await raw.zscore(space.tag('old'), 'k')).toBeNull();
    expect(await raw.exists(space.tag('old'))).toBe(0);
    expect(await raw.zscore(space.tag('kept'), 'k')).not.toBeNull();
    expect(await raw.zscore(space.tag('new'), 'k')).not.toBeNull();
    expect((await repo.get(TENANT, 'k'))?.data).toBe(2);
  });

  it('only_if_absent stores nothing when a live entry exists, and stores once it expired', async () => {
    await repo.set(TENANT, entry('nx', { ttlSeconds: 1, data: 'first' }));
    expect(await repo.set(TENANT, entry('nx', { onlyIfAbsent: true, data: 'second' }))).toEqual({
      kind: 'exists',
      expiresAt: expect.any(Number),
    });
    expect((await repo.get(TENANT, 'nx'))?.data).toBe('first');

    await sleep(1100);
    expect((await repo.set(TENANT, entry('nx', { onlyIfAbsent: true, data: 'third' }))).kind).toBe(
      'stored',
    );
    expect((await repo.get(TENANT, 'nx'))?.data).toBe('third');
  });

  it('update replaces data, and a TTL alone moves the expiry of the entry and all its index members', async () => {
    const stored = await repo.set(TENANT, entry('u', { tags: ['t'], ttlSeconds: 100 }));
    if (stored.kind !== 'stored') throw new Error('not stored');

    const dataOnly = await repo.update(TENANT, 'u', { data: { new: true } });
    expect(dataOnly).toEqual({
      kind: 'updated',
      updatedAt: expect.any(Number),
      expiresAt: stored.expiresAt,
    });

    const shorter = await repo.update(TENANT, 'u', { ttlSeconds: 5 });
    if (shorter.kind !== 'updated') throw new Error('not updated');
    expect(shorter.expiresAt - shorter.updatedAt).toBe(5000);
    expect(await raw.pexpiretime(space.entry('u'))).toBe(shorter.expiresAt);
    expect(await raw.zscore(space.expiry, 'u')).toBe(String(shorter.expiresAt));
    expect(await raw.zscore(space.tag('t'), 'u')).toBe(String(shorter.expiresAt));
    expect((await repo.get(TENANT, 'u'))?.data).toEqual({ new: true });

    expect(await repo.update(TENANT, 'absent', { ttlSeconds: 5 })).toEqual({ kind: 'not_found' });
  });

  it('delete removes the entry with every index member, and reports only live entries', async () => {
    await repo.set(TENANT, entry('d', { tags: ['x', 'y'] }));
    const result = await repo.delete(TENANT, ['d', 'missing']);

    expect(result).toEqual({ deletedAt: expect.any(Number), deleted: ['d'] });
    expect(await tenantKeys()).toEqual([]);
  });

  it('tag invalidation deletes exactly the live entries that still carry the tag', async () => {
    await repo.set(TENANT, entry('live-1', { tags: ['report', 'x'] }));
    await repo.set(TENANT, entry('live-2', { tags: ['report'] }));
    await repo.set(TENANT, entry('expired', { tags: ['report'], ttlSeconds: 1 }));
    await repo.set(TENANT, entry('retagged', { tags: ['report'] }));
    await repo.set(TENANT, entry('retagged', { tags: ['other'] }));
    await repo.set(TENANT, entry('untagged'));
    await sleep(1100);
    // The expired entry comes back under another tag: its old 'report' member must not delete it.
    await repo.set(TENANT, entry('expired', { tags: ['fresh'] }));

    const result = await repo.invalidate(TENANT, { tags: ['report'] }, 1000);

    expect(result.count).toBe(2);
    expect(result.keys.sort()).toEqual(['live-1', 'live-2']);
    expect(await repo.get(TENANT, 'retagged')).not.toBeNull();
    expect(await repo.get(TENANT, 'expired')).not.toBeNull();
    expect(await repo.get(TENANT, 'untagged')).not.toBeNull();
    expect(await raw.exists(space.tag('report'))).toBe(0);
    expect(await raw.zscore(space.tag('x'), 'live-1')).toBeNull();
    expect(await raw.sismember(space.tagRegistry, 'report')).toBe(0);
  });

  it('invalidating a tag larger than one step loops until every member is gone', async () => {
    const n = INVALIDATION_STEP * 2 + 7;
    await Promise.all(
      Array.from({ length: n }, (_, i) => repo.set(TENANT, entry(`big:${i}`, { tags: ['big'] }))),
    );
    const result = await repo.invalidate(TENANT, { tags: ['big'] }, 10);

    expect(result.count).toBe(n);
    expect(result.keys).toHaveLength(10);
    expect(await tenantKeys()).toEqual([]);
  });

  it('combines keys, tags and pattern and counts each deleted entry once', async () => {
    await repo.set(TENANT, entry('llm:a', { tags: ['t'] }));
    await repo.set(TENANT, entry('llm:b'));
    await repo.set(TENANT, entry('tool:c', { tags: ['t'] }));
    await repo.set(TENANT, entry('tool:d'));

    const result = await repo.invalidate(
      TENANT,
      { keys: ['llm:a', 'nope'], tags: ['t'], pattern: compileCacheGlob('llm:*') },
      1000,
    );

    expect(result.count).toBe(3);
    expect(result.keys.sort()).toEqual(['llm:a', 'llm:b', 'tool:c']);
    expect(await repo.get(TENANT, 'tool:d')).not.toBeNull();
  });

  it('pattern invalidation matches ? and * over this tenant only, treating other characters literally', async () => {
    for (const key of ['a.1', 'a.22', 'ab1', 'a-1']) await repo.set(TENANT, entry(key));
    await repo.set('other', entry('a.1'));

    const result = await repo.invalidate(TENANT, { pattern: compileCacheGlob('a.?') }, 1000);

    expect(result).toEqual({ count: 1, keys: ['a.1'] });
    expect(await repo.get('other', 'a.1')).not.toBeNull();
    expect(
      (await repo.invalidate(TENANT, { pattern: compileCacheGlob('*1') }, 1000)).keys.sort(),
    ).toEqual(['a-1', 'ab1']);
    expect((await repo.invalidate(TENANT, { pattern: compileCacheGlob('a*') }, 1000)).count).toBe(
      1,
    );
  });

  it('invalidates 100k entries by pattern in bounded steps, exactly, leaving other keys alone', async () => {
    const total = 100_000;
    await seed(total, (i) => `llm:resp:${i}`);
    await seed(1000, (i) => `tool:keep:${i}`);

    // Server-side duration of each step: the slow log records every script call slower than 1 ms.
    await raw.config('SET', 'slowlog-log-slower-than', '1000');
    await raw.config('SET', 'slowlog-max-len', '10000');
    await raw.slowlog('RESET');
    const run = INVALIDATE_CACHE_PATTERN_STEP.run.bind(INVALIDATE_CACHE_PATTERN_STEP);
    let steps = 0;
    const spy = jest.spyOn(INVALIDATE_CACHE_PATTERN_STEP, 'run').mockImplementation((...args) => {
      steps++;
      return run(...args);
    });
    const result = await repo.invalidate(TENANT, { pattern: compileCacheGlob('llm:*') }, 1000);
    spy.mockRestore();
    const log = (await raw.slowlog('GET', 10000)) as [number, number, number, string[]][];
    await raw.config('SET', 'slowlog-log-slower-than', '10000');
    const durations = log
      .filter((e) => e[3][0].toLowerCase().startsWith('eval'))
      .map((e) => e[2] / 1000);
    // Timings are the benchmarks' business (docs/architecture/cache.md); the test output stays clean.
    expect(steps).toBeGreaterThanOrEqual(total / INVALIDATION_STEP);
    expect(result.count).toBe(total);
    expect(result.keys).toHaveLength(1000);
    expect(await raw.zcard(space.index)).toBe(1000);
    expect(await raw.exists(space.entry('llm:resp:99999'))).toBe(0);
    expect(await repo.get(TENANT, 'tool:keep:999')).not.toBeNull();
    // Bounded by construction (each step looks at INVALIDATION_STEP keys at most); timing is checked
    // on the median, which a loaded 2-core CI machine does not distort the way it does the maximum.
    const sorted = [...durations].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)] ?? 0).toBeLessThan(20);
  }, 120_000);

  // Expired entries whose HASH Redis has not dropped yet, 300 tags each: removing 100 of them is
  // some 70k commands, far beyond one call's 4 ms of Redis time on any machine.
  async function seedHeavyExpired(): Promise<void> {
    const tags = Array.from({ length: 300 }, (_, t) => `t${t}`);
    const seeding = raw.pipeline();
    for (let i = 0; i < 100; i++) {
      const key = `heavy${i}`;
      seeding.hset(space.entry(key), 'data', 'x', 'expires_at', 1, 'tags', tags.join(','));
      seeding.zadd(space.index, 0, key).zadd(space.expiry, 1, key);
      for (const tag of tags) seeding.zadd(space.tag(tag), 1, key);
    }
    seeding.sadd(space.tagRegistry, ...tags);
    await seeding.exec();
  }

  it('reports to the store observer what budget-stopped purges removed, not their cap', async () => {
    await seedHeavyExpired();
    const expired: number[] = [];
    const observer: StoreObserver = {
      operation: () => undefined,
      batch: () => undefined,
      lookup: () => undefined,
      created: () => undefined,
      expired: (entity, count) => {
        expect(entity).toBe('cache');
        expired.push(count);
      },
    };
    const observed = instrumentRepository(
      new RedisCacheRepository(client, keys, new MarkingCodec()),
      'cache',
      observer,
    );
    const removed: number[] = [];
    for (;;) {
      const step = await observed.purgeExpired(TENANT, 100);
      if (step.removed > 0) removed.push(step.removed);
      if (!step.more) break;
    }
    expect(removed.length).toBeGreaterThan(1); // at least one call stopped on its budget
    expect(expired).toEqual(removed);
    expect(expired.reduce((sum, count) => sum + count, 0)).toBe(100);
    expect(await raw.zcard(space.expiry)).toBe(0);
  });

  it('a purge call stops on its time budget between chunks, reporting what it removed, and the loop still removes everything', async () => {
    await seedHeavyExpired();

    // Each call reports what it really removed (whole chunks), and `more` until nothing is left.
    const steps = await purgeStepByStep(
      () => repo.purgeExpired(TENANT, 100),
      () => raw.zcard(space.expiry),
    );
    expectBudgetBoundDrain(steps, 100); // the first call stopped on its budget, not its cap
    expect(steps[0].removed % 20).toBe(0);
    expect(await tenantKeys()).toEqual([]);
    expect(await raw.xlen(`it:{${TENANT}}:events`)).toBe(100); // one cache.expired each
  });

  it('purges expired entries from the key index and the tag indexes, bounded per call', async () => {
    for (let i = 0; i < 5; i++)
      await repo.set(TENANT, entry(`e${i}`, { ttlSeconds: 1, tags: ['short'] }));
    await repo.set(TENANT, entry('keep', { tags: ['short'] }));
    await sleep(1100);

    expect(await repo.purgeExpired(TENANT, 3)).toEqual({ removed: 3, more: true });
    expect(await repo.purgeExpired(TENANT, 3)).toEqual({ removed: 2, more: false });
    expect(await raw.zrange(space.index, '0', '-1')).toEqual(['keep']);
    expect(await raw.zrange(space.expiry, '0', '-1')).toEqual(['keep']);

    // Entries Redis already dropped cannot name their tags: the tag sweep trims them by score.
    await raw.zadd(space.tag('ghost'), 1, 'gone');
    await raw.sadd(space.tagRegistry, 'ghost');
    let cursor = '0';
    let removed = 0;
    do {
      const step = await repo.sweepTags(TENANT, cursor, 10);
      cursor = step.cursor;
      removed += step.removed;
    } while (cursor !== '0');

    expect(removed).toBe(6); // five expired 'short' members and the ghost
    expect(await raw.zrange(space.tag('short'), '0', '-1')).toEqual(['keep']);
    expect(await raw.smembers(space.tagRegistry)).toEqual(['short']);
  });
});
