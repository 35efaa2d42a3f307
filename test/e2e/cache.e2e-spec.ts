import Redis from 'ioredis';
import { CacheRepository } from '@app/redis';
import { CacheExpirySweeper } from '../../apps/api/src/cache/cache-expiry.sweeper';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

const PROBLEM = /application\/problem\+json/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until the condition holds (background work such as the stats flush), 5 s at most. */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('condition not met within 5 s');
}

describe('Cache API over HTTP', () => {
  let redis: RedisServer;
  let raw: Redis;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.port, '127.0.0.1');
    t = await startTestApp(redis.url, {
      CACHE_DEFAULT_TTL_SECONDS: '600',
      CACHE_MAX_TTL_SECONDS: '86400',
      // Seeding 100k entries on a loaded 2-core CI machine can queue a command past the default
      // 2 s; no test here is about timeouts (outages are tested elsewhere).
      REDIS_COMMAND_TIMEOUT_MS: '15000',
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

  async function put(key: string, body: Record<string, unknown> = {}) {
    const response = await t.http
      .post(`/api/v1/cache/${key}`)
      .send({ data: { v: key }, ...body })
      .expect(201);
    return response.body as { cache_key: string; cached_at: string; expires_at: string };
  }

  const exists = async (key: string) => (await t.http.get(`/api/v1/cache/${key}`)).status === 200;

  describe('set and get', () => {
    it('stores any JSON value and returns it with cached_at, expires_at and hit', async () => {
      const written = await t.http
        .post('/api/v1/cache/llm:gpt-4o:summary:1')
        .send({ data: { summary: 'ok', n: [1, 2] }, ttl_seconds: 900, tags: ['llm', 'session:1'] })
        .expect(201);

      expect(written.body).toEqual({
        cache_key: 'llm:gpt-4o:summary:1',
        cached_at: expect.any(String),
        expires_at: new Date(Date.parse(written.body.cached_at) + 900_000).toISOString(),
      });
      expect(written.headers.location).toBe('/api/v1/cache/llm:gpt-4o:summary:1');

      const read = await t.http.get('/api/v1/cache/llm:gpt-4o:summary:1').expect(200);
      expect(read.body).toEqual({
        cache_key: 'llm:gpt-4o:summary:1',
        data: { summary: 'ok', n: [1, 2] },
        tags: ['llm', 'session:1'],
        cached_at: written.body.cached_at,
        expires_at: written.body.expires_at,
        hit: true,
      });
    });

    it.each([
      ['a string', 'plain text'],
      ['a number', 42.5],
      ['null', null],
      ['an array', [1, 'two', { three: 3 }]],
      ['false', false],
    ])('round-trips %s', async (_, data) => {
      await put('value', { data });
      expect((await t.http.get('/api/v1/cache/value').expect(200)).body.data).toEqual(data);
    });

    it('uses CACHE_DEFAULT_TTL_SECONDS and replaces an existing entry on a second POST', async () => {
      const first = await put('k', { data: 1 });
      expect(Date.parse(first.expires_at) - Date.parse(first.cached_at)).toBe(600_000);

      await put('k', { data: 2, ttl_seconds: 30 });
      const read = await t.http.get('/api/v1/cache/k').expect(200);
      expect(read.body.data).toBe(2);
      expect(Date.parse(read.body.expires_at) - Date.parse(read.body.cached_at)).toBe(30_000);
    });

    it('answers a miss with 404 problem+json, and stops serving an entry once its TTL has passed', async () => {
      const miss = await t.http.get('/api/v1/cache/never-set').expect(404);
      expect(miss.headers['content-type']).toMatch(PROBLEM);
      expect(miss.body).toMatchObject({ status: 404, type: 'urn:masa:problem:not-found' });

      await put('short', { ttl_seconds: 1 });
      await t.http.get('/api/v1/cache/short').expect(200);
      await sleep(1100);
      await t.http.get('/api/v1/cache/short').expect(404);
    });
  });

  describe('only_if_absent (SET NX)', () => {
    it('stores with 201 when absent and answers 409 without writing when present', async () => {
      await t.http
        .post('/api/v1/cache/lock-1?only_if_absent=true')
        .send({ data: 'first' })
        .expect(201);

      const again = await t.http
        .post('/api/v1/cache/lock-1?only_if_absent=true')
        .send({ data: 'second' })
        .expect(409);
      expect(again.headers['content-type']).toMatch(PROBLEM);
      expect(again.body.detail).toContain('already exists');
      expect((await t.http.get('/api/v1/cache/lock-1').expect(200)).body.data).toBe('first');

      await t.http
        .post('/api/v1/cache/lock-1?only_if_absent=false')
        .send({ data: 'third' })
        .expect(201);
      expect((await t.http.get('/api/v1/cache/lock-1').expect(200)).body.data).toBe('third');
    });

    it('stores again once the previous entry expired', async () => {
      await t.http
        .post('/api/v1/cache/lock-2?only_if_absent=true')
        .send({ data: 1, ttl_seconds: 1 })
        .expect(201);
      await sleep(1100);
      await t.http.post('/api/v1/cache/lock-2?only_if_absent=true').send({ data: 2 }).expect(201);
    });

    it('refuses a value other than true or false', async () => {
      const response = await t.http
        .post('/api/v1/cache/x?only_if_absent=yes')
        .send({ data: 1 })
        .expect(400);
      expect(response.body.errors[0]).toMatchObject({ field: 'only_if_absent' });
    });
  });

  describe('update and delete', () => {
    it('PUT with ttl_seconds alone extends or shortens the life of the entry, keeping its data', async () => {
      await put('u', { data: 'kept', ttl_seconds: 100 });

      const longer = await t.http.put('/api/v1/cache/u').send({ ttl_seconds: 5000 }).expect(200);
      expect(longer.body).toEqual({
        cache_key: 'u',
        updated_at: expect.any(String),
        expires_at: expect.any(String),
      });
      expect(Date.parse(longer.body.expires_at) - Date.parse(longer.body.updated_at)).toBe(
        5_000_000,
      );

      await t.http.put('/api/v1/cache/u').send({ ttl_seconds: 1 }).expect(200);
      expect((await t.http.get('/api/v1/cache/u').expect(200)).body.data).toBe('kept');
      await sleep(1100);
      await t.http.get('/api/v1/cache/u').expect(404);
    });

    it('PUT with data replaces it and keeps the expiry; 404 when absent; 400 when empty', async () => {
      const written = await put('p', { data: 1 });
      const updated = await t.http
        .put('/api/v1/cache/p')
        .send({ data: { two: 2 } })
        .expect(200);
      expect(updated.body.expires_at).toBe(written.expires_at);
      expect((await t.http.get('/api/v1/cache/p').expect(200)).body.data).toEqual({ two: 2 });

      await t.http.put('/api/v1/cache/absent').send({ data: 1 }).expect(404);
      const empty = await t.http.put('/api/v1/cache/p').send({}).expect(400);
      expect(empty.body.errors).toEqual([
        { field: 'body', message: 'give at least one of data, ttl_seconds' },
      ]);
    });

    it('DELETE removes the entry and its index members; a second DELETE is a 404', async () => {
      await put('d', { tags: ['t1'] });
      const deleted = await t.http.delete('/api/v1/cache/d').expect(200);
      expect(deleted.body).toEqual({ deleted: true, deleted_at: expect.any(String) });
      await t.http.get('/api/v1/cache/d').expect(404);
      await t.http.delete('/api/v1/cache/d').expect(404);
      expect(await raw.keys(`${t.config.redis.keyPrefix}:{default}:cache:[ekt]*`)).toEqual([]);
    });
  });

  describe('batch-get', () => {
    it('returns found entries and missing keys in one call, counting each key', async () => {
      // Hits and misses are counted in process; FLUSHALL between tests does not reset them.
      const before = (await t.http.get('/api/v1/cache/stats').expect(200)).body;
      await put('a', { data: 'A' });
      await put('b', { data: 'B' });

      const response = await t.http
        .post('/api/v1/cache/batch-get')
        .send({ cache_keys: ['a', 'nope', 'b'] })
        .expect(200);

      expect(
        response.body.entries.map((e: { cache_key: string; data: string }) => [
          e.cache_key,
          e.data,
        ]),
      ).toEqual([
        ['a', 'A'],
        ['b', 'B'],
      ]);
      expect(response.body.entries[0]).toMatchObject({ hit: true, expires_at: expect.any(String) });
      expect(response.body.missing).toEqual(['nope']);
      const after = (await t.http.get('/api/v1/cache/stats').expect(200)).body;
      expect([after.hits - before.hits, after.misses - before.misses]).toEqual([2, 1]);
    });

    it('refuses more than 100 keys and an invalid key', async () => {
      const many = Array.from({ length: 101 }, (_, i) => `k${i}`);
      await t.http.post('/api/v1/cache/batch-get').send({ cache_keys: many }).expect(400);
      const bad = await t.http
        .post('/api/v1/cache/batch-get')
        .send({ cache_keys: ['ok', 'not ok'] })
        .expect(400);
      expect(bad.body.errors[0].field).toBe('cache_keys');
    });
  });

  describe('hit ratio', () => {
    it('counts hits and misses per tenant, before and after they reach Redis', async () => {
      const fresh = t.as({ sub: 'o', roles: ['orchestrator'], tenant: 'ratio' });
      expect((await fresh.get('/api/v1/cache/stats').expect(200)).body).toEqual({
        hits: 0,
        misses: 0,
        hit_ratio: 0,
      });
      await fresh.post('/api/v1/cache/h').send({ data: 1 }).expect(201);
      await fresh.get('/api/v1/cache/h').expect(200);
      await fresh.get('/api/v1/cache/h').expect(200);
      await fresh.get('/api/v1/cache/h').expect(200);
      await fresh.get('/api/v1/cache/miss').expect(404);

      const expected = { hits: 3, misses: 1, hit_ratio: 0.75 };
      expect((await fresh.get('/api/v1/cache/stats').expect(200)).body).toEqual(expected);
      // A cache read never writes to Redis: the counts arrive there in the background.
      const stats = `${t.config.redis.keyPrefix}:{ratio}:cache:stats`;
      // A flush may fall between the hits and the miss: wait for both to arrive.
      await waitFor(async () => (await raw.hmget(stats, 'hits', 'misses')).join() === '3,1');
      expect(await raw.hgetall(stats)).toEqual({ hits: '3', misses: '1' });
      expect((await fresh.get('/api/v1/cache/stats').expect(200)).body).toEqual({
        hits: 3,
        misses: 1,
        hit_ratio: 0.75,
      });
    });
  });

  describe('keys, tags, TTL and size rules', () => {
    it.each(['invalidate', 'batch-get', 'stats'])(
      'refuses the reserved key %s with a clear 400',
      async (key) => {
        for (const response of [
          await t.http.get(`/api/v1/cache/${key === 'stats' ? 'x' : key}`),
          await t.http.put(`/api/v1/cache/${key}`).send({ data: 1 }),
          await t.http.delete(`/api/v1/cache/${key}`),
        ]) {
          if (response.status === 404) continue; // GET /cache/x: just a miss (stats has its own GET)
          expect(response.status).toBe(400);
          expect(response.headers['content-type']).toMatch(PROBLEM);
          expect(response.body.errors[0]).toMatchObject({
            field: 'cache_key',
            message: expect.stringContaining('reserved'),
          });
        }
      },
    );

    it('POST /cache/invalidate with an entry body explains that invalidate is reserved', async () => {
      const response = await t.http
        .post('/api/v1/cache/invalidate')
        .send({ data: { v: 1 } })
        .expect(400);
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body.detail).toContain(
        '"invalidate" is a reserved word and cannot be used as a cache_key',
      );
    });

    it.each([
      ['a space', 'has%20space'],
      ['a brace (hash tag)', '%7Bother%7D'],
      ['a star', 'a*'],
      ['a 251-character key', 'k'.repeat(251)],
    ])('refuses a key with %s with a 400 naming cache_key', async (_, key) => {
      const response = await t.http.post(`/api/v1/cache/${key}`).send({ data: 1 }).expect(400);
      expect(response.body.errors[0]).toMatchObject({ field: 'cache_key' });
      await t.http.get(`/api/v1/cache/${key}`).expect(400);
    });

    it('accepts a 250-character key of the full alphabet', async () => {
      const key = `Az09._:-${'x'.repeat(242)}`;
      await put(key);
      await t.http.get(`/api/v1/cache/${key}`).expect(200);
    });

    it.each([
      ['no data', { ttl_seconds: 5 }, 'data'],
      ['ttl_seconds 0', { data: 1, ttl_seconds: 0 }, 'ttl_seconds'],
      ['ttl_seconds above CACHE_MAX_TTL_SECONDS', { data: 1, ttl_seconds: 86401 }, 'ttl_seconds'],
      ['a fractional ttl', { data: 1, ttl_seconds: 1.5 }, 'ttl_seconds'],
      ['33 tags', { data: 1, tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }, 'tags'],
      ['a tag outside the alphabet', { data: 1, tags: ['ok', 'no/slash'] }, 'tags'],
      ['an unknown field', { data: 1, version: 2 }, 'version'],
    ])('refuses %s with a 400 naming the field', async (_, body, field) => {
      const response = await t.http.post('/api/v1/cache/rules').send(body).expect(400);
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      await t.http.get('/api/v1/cache/rules').expect(404);
    });

    it('answers 413 naming data when data is over CACHE_MAX_VALUE_BYTES (1 MiB), on create and update', async () => {
      const limit = t.config.cache.maxValueBytes;
      const justOver = 'x'.repeat(limit); // as JSON text: limit + 2 quote characters
      const created = await t.http.post('/api/v1/cache/big').send({ data: justOver }).expect(413);
      expect(created.headers['content-type']).toMatch(PROBLEM);
      expect(created.body.detail).toBe(`data take ${limit + 2} bytes; the limit is ${limit}`);
      await t.http.get('/api/v1/cache/big').expect(404);

      await put('big', { data: 'x'.repeat(limit - 2) }); // exactly at the limit
      const updated = await t.http.put('/api/v1/cache/big').send({ data: justOver }).expect(413);
      expect(updated.body.detail).toContain('data take');
    });
  });

  describe('invalidation', () => {
    it('by cache_keys: counts only live entries and reports their keys', async () => {
      await put('k1');
      await put('k2');
      const response = await t.http
        .post('/api/v1/cache/invalidate')
        .send({ cache_keys: ['k1', 'k2', 'k3'] })
        .expect(200);
      expect(response.body).toEqual({
        invalidated_count: 2,
        invalidated_keys: ['k1', 'k2'],
        invalidated_keys_truncated: false,
      });
      expect(await exists('k1')).toBe(false);
    });

    it('by tag: removes exactly the live entries carrying it, after others expired or were re-tagged', async () => {
      await put('live-1', { tags: ['report', 'other'] });
      await put('live-2', { tags: ['report'] });
      await put('expires', { tags: ['report'], ttl_seconds: 1 });
      await put('retagged', { tags: ['report'] });
      await put('retagged', { tags: ['weekly'] });
      await put('bystander', { tags: ['other'] });
      await sleep(1100);
      await put('expires', { tags: ['fresh'] }); // same key, back under another tag

      const response = await t.http
        .post('/api/v1/cache/invalidate')
        .send({ tags: ['report'] })
        .expect(200);

      expect(response.body.invalidated_count).toBe(2);
      expect(response.body.invalidated_keys.sort()).toEqual(['live-1', 'live-2']);
      expect(await exists('live-1')).toBe(false);
      expect(await exists('retagged')).toBe(true);
      expect(await exists('expires')).toBe(true);
      expect(await exists('bystander')).toBe(true);
      // The tag index keeps nothing behind, and live-1 left the 'other' tag too.
      const prefix = `${t.config.redis.keyPrefix}:{default}:cache`;
      expect(await raw.exists(`${prefix}:tag:report`)).toBe(0);
      expect(await raw.zrange(`${prefix}:tag:other`, '0', '-1')).toEqual(['bystander']);
    });

    it('by pattern: * and ? over this tenant only', async () => {
      for (const key of ['llm:a:1', 'llm:b:22', 'tool:a:1', 'llmx']) await put(key);
      const response = await t.http
        .post('/api/v1/cache/invalidate')
        .send({ pattern: 'llm:?:*' })
        .expect(200);
      expect(response.body.invalidated_keys).toEqual(['llm:a:1', 'llm:b:22']);
      expect(await exists('llmx')).toBe(true);
      expect(await exists('tool:a:1')).toBe(true);
    });

    it.each([
      ['a character class', 'llm:[ab]*', /character classes/],
      ['more than 4 wildcards', '*a*b*c*d*', /at most 4 wildcards/],
      ['a backslash', 'a\\*', /escapes/],
    ])('refuses a pattern with %s with a 400 naming pattern', async (_, pattern, message) => {
      const response = await t.http.post('/api/v1/cache/invalidate').send({ pattern }).expect(400);
      expect(response.body.errors[0]).toMatchObject({
        field: 'pattern',
        message: expect.stringMatching(message),
      });
    });

    it('refuses an empty selection', async () => {
      const response = await t.http.post('/api/v1/cache/invalidate').send({}).expect(400);
      expect(response.body.errors[0].message).toContain('cache_keys, tags, pattern');
    });

    it('invalidates 100k entries matching a pattern with an exact count, leaving other keys', async () => {
      const repo = t.app.get(CacheRepository);
      const total = 100_000;
      // 2,000 writes in flight at a time: this app's 15 s command timeout leaves room for the queue,
      // and fewer, larger rounds keep the seeding short when another suite shares the cores.
      for (let start = 0; start < total; start += 2000) {
        const writes: Promise<unknown>[] = [];
        for (let i = start; i < start + 2000; i++) {
          writes.push(
            repo.set('default', {
              key: `rag:doc:${i}`,
              data: i,
              ttlSeconds: 3600,
              tags: [],
              onlyIfAbsent: false,
            }),
          );
        }
        await Promise.all(writes);
      }
      await put('rag:keep', { data: 'kept' }); // does not match rag:doc:*
      await put('other:doc:1');

      const response = await t.http
        .post('/api/v1/cache/invalidate')
        .send({ pattern: 'rag:doc:*' })
        .expect(200);

      expect(response.body.invalidated_count).toBe(total);
      expect(response.body.invalidated_keys).toHaveLength(1000);
      expect(response.body.invalidated_keys_truncated).toBe(true);
      const again = await t.http
        .post('/api/v1/cache/invalidate')
        .send({ pattern: 'rag:doc:*' })
        .expect(200);
      expect(again.body.invalidated_count).toBe(0);
      expect(await raw.zcard(`${t.config.redis.keyPrefix}:{default}:cache:keys`)).toBe(2);
      expect(await exists('rag:keep')).toBe(true);
      expect(await exists('other:doc:1')).toBe(true);
    }, 300_000); // seeding 100k entries on a shared 2-core machine
  });

  describe('expiry sweeper', () => {
    it('removes expired entries from the key, expiry and tag indexes', async () => {
      await put('gone', { ttl_seconds: 1, tags: ['t'] });
      await put('stays', { tags: ['t'] });
      await sleep(1100);

      expect(await t.app.get(CacheExpirySweeper).sweep()).toBe(2); // the expiry member and the tag member
      const prefix = `${t.config.redis.keyPrefix}:{default}:cache`;
      expect(await raw.zrange(`${prefix}:keys`, '0', '-1')).toEqual(['stays']);
      expect(await raw.zrange(`${prefix}:expiry`, '0', '-1')).toEqual(['stays']);
      expect(await raw.zrange(`${prefix}:tag:t`, '0', '-1')).toEqual(['stays']);
    });
  });

  describe('permissions', () => {
    it('lets an agent read but not write, delete or invalidate', async () => {
      await put('perm');
      const agent = t.as({ sub: 'agent-1', roles: ['agent'], tenant: 'default' });
      await agent.get('/api/v1/cache/perm').expect(200);
      await agent.post('/api/v1/cache/perm').send({ data: 1 }).expect(403);
      await agent.delete('/api/v1/cache/perm').expect(403);
      await agent.post('/api/v1/cache/invalidate').send({ pattern: '*' }).expect(403);
      await t.anonymous.get('/api/v1/cache/perm').expect(401);
    });
  });
});

describe('Cache API tenant scoping and encryption at rest', () => {
  let redis: RedisServer;
  let raw: Redis;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.port, '127.0.0.1');
    t = await startTestApp(redis.url, {
      ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
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

  it('stores data through the payload codec: encrypted in Redis, plain over HTTP', async () => {
    const data = { secret: 'the-plaintext-marker', filler: 'y'.repeat(4000) };
    await t.http.post('/api/v1/cache/coded').send({ data }).expect(201);

    const stored = await raw.hget(`${t.config.redis.keyPrefix}:{default}:cache:e:coded`, 'data');
    expect(stored).not.toBeNull();
    expect(stored).not.toContain('the-plaintext-marker');
    expect(stored!.length).toBeLessThan(4000); // compressed before encryption
    expect((await t.http.get('/api/v1/cache/coded').expect(200)).body.data).toEqual(data);
  });

  it("keeps each tenant's entries, invalidations and counters apart", async () => {
    const mine = t.as({ sub: 'o', roles: ['orchestrator'], tenant: 'mine' });
    const other = t.as({ sub: 'o', roles: ['orchestrator'], tenant: 'other' });
    await mine
      .post('/api/v1/cache/shared-name')
      .send({ data: 'default', tags: ['t'] })
      .expect(201);
    await other
      .post('/api/v1/cache/shared-name')
      .send({ data: 'other', tags: ['t'] })
      .expect(201);

    expect((await other.get('/api/v1/cache/shared-name').expect(200)).body.data).toBe('other');
    await other
      .post('/api/v1/cache/invalidate')
      .send({ pattern: '*', tags: ['t'] })
      .expect(200);
    await other.get('/api/v1/cache/shared-name').expect(404);

    expect((await mine.get('/api/v1/cache/shared-name').expect(200)).body.data).toBe('default');
    expect((await mine.get('/api/v1/cache/stats').expect(200)).body).toMatchObject({
      hits: 1,
      misses: 0,
    });
    expect((await other.get('/api/v1/cache/stats').expect(200)).body).toMatchObject({
      hits: 1,
      misses: 1,
    });
  });
});
