import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RedisCacheRepository } from '@app/redis/cache/redis-cache.repository';
import { compileCacheGlob } from '@app/redis/cache/cache-glob';
import { ConsistencyChecker } from '@app/redis/consistency/consistency-checker';
import { MemoryKeyspace, type MemoryType } from '@app/redis/keys/memory-keyspace';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import { RedisMemoryRepository } from '@app/redis/memory/redis-memory.repository';
import { JsonPayloadCodec } from '@app/redis/payload-codec';
import { RedisSessionRepository } from '@app/redis/sessions/redis-session.repository';
import { startRedisHarness, type RedisHarness } from '../support/redis-harness';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const TENANTS = ['acme', 'globex'];
const STATUSES = ['created', 'running', 'paused', 'completed'];
const TYPES: MemoryType[] = ['working', 'persistent', 'shared'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Deterministic pseudo-random numbers, so a failing workload can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

describe('Consistency checker (npm run check:consistency) against a real Redis', () => {
  let harness: RedisHarness;
  const keys = new RedisKeyBuilder('cc');
  let sessions: RedisSessionRepository;
  let memory: RedisMemoryRepository;
  let cache: RedisCacheRepository;
  let checker: ConsistencyChecker;

  beforeAll(async () => {
    harness = await startRedisHarness(2000);
    const codec = new JsonPayloadCodec();
    sessions = new RedisSessionRepository(harness.client, keys, codec);
    memory = new RedisMemoryRepository(harness.client, keys, codec);
    cache = new RedisCacheRepository(harness.client, keys, codec);
    checker = new ConsistencyChecker(harness.client, keys, { graceMs: 0 });
  });

  afterAll(() => harness.stop());

  /** Concurrent creates, If-Match updates, status moves, deletes, short TTLs, cascades, invalidations. */
  async function randomizedWorkload(seed: number, tenant: string): Promise<string[]> {
    const next = random(seed);
    const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)];
    const ids: string[] = [];
    await sessions.create(
      tenant,
      Array.from({ length: 60 }, (_, i) => {
        const id = randomUUID();
        ids.push(id);
        return {
          id,
          config: { i },
          metadata: {},
          status: pick(STATUSES),
          createdBy: pick(['user:1', 'user 2', 'ops/3']),
          // Every sixth session lives one second: it expires during the workload.
          ttlSeconds: i % 6 === 0 ? 1 : 3600,
        };
      }),
    );
    const operations: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      const id = pick(ids);
      const agent = pick(['planner', 'research:1', 'critic']);
      const roll = next();
      if (roll < 0.2) {
        operations.push(
          sessions.update(
            tenant,
            id,
            { status: pick(STATUSES), statusUpdatedBy: 'user:1' },
            // Half of the updates race on a stale version and must lose cleanly.
            { maxPayloadBytes: 65536, expectedVersion: next() < 0.5 ? 1 : undefined },
          ),
        );
      } else if (roll < 0.3) {
        operations.push(sessions.delete(tenant, [id]));
      } else if (roll < 0.55) {
        operations.push(
          memory.create(
            tenant,
            {
              memoryId: randomUUID(),
              agentId: agent,
              sessionId: id,
              memoryType: pick(TYPES),
              data: { step: i },
              createdBy: 'user:1',
              ttlSeconds: next() < 0.1 ? 1 : 3600,
            },
            65536,
          ),
        );
      } else if (roll < 0.7) {
        operations.push(
          memory.replace(
            tenant,
            agent,
            id,
            { data: { replaced: i }, memoryType: pick(TYPES) },
            { maxDataBytes: 65536 },
          ),
        );
      } else if (roll < 0.75) {
        operations.push(memory.delete(tenant, agent, id));
      } else if (roll < 0.92) {
        operations.push(
          cache.set(tenant, {
            key: `k:${Math.floor(next() * 40)}`,
            data: { i },
            ttlSeconds: next() < 0.15 ? 1 : 3600,
            tags: next() < 0.5 ? [pick(['red', 'blue', 'green'])] : [],
            onlyIfAbsent: next() < 0.2,
          }),
        );
      } else if (roll < 0.96) {
        operations.push(cache.invalidate(tenant, { tags: [pick(['red', 'blue'])] }, 100));
      } else {
        operations.push(
          cache.invalidate(
            tenant,
            { pattern: compileCacheGlob(`k:${Math.floor(next() * 4)}*`) },
            100,
          ),
        );
      }
    }
    await Promise.all(operations);
    return ids;
  }

  it('finds zero violations after a randomized concurrent workload, with and after expiries', async () => {
    await harness.raw.flushall();
    await Promise.all(TENANTS.map((tenant, i) => randomizedWorkload(1000 + i, tenant)));

    const live = await Promise.all(TENANTS.map((tenant) => checker.checkTenant(tenant)));
    for (const report of live) {
      expect(report.violations).toEqual([]);
      expect(report.sessions).toBeGreaterThan(20);
      expect(report.memory_records).toBeGreaterThan(5);
      expect(report.cache_entries).toBeGreaterThan(5);
    }

    // The short-lived records expire: Redis drops them, their index entries wait for the purge.
    await sleep(1500);
    const expired = await checker.checkTenant('acme');
    expect(expired.violations).toEqual([]);
    expect(expired.pending_expiry).toBeGreaterThan(0);

    for (const tenant of TENANTS) {
      await sessions.purgeExpired(tenant, 1000);
      await memory.purgeExpired(tenant, 1000);
      await cache.purgeExpired(tenant, 1000);
    }
    const purged = await checker.checkTenant('acme');
    expect(purged).toMatchObject({ pending_expiry: 0, violations: [] });
    expect(await checker.tenants()).toEqual(TENANTS);
  });

  describe('detects each kind of corruption', () => {
    const tenant = 'acme';
    const space = keys.sessions(tenant);
    const m = keys.memory(tenant);
    const c = keys.cache(tenant);
    let sessionId: string;

    beforeEach(async () => {
      await harness.raw.flushall();
      sessionId = randomUUID();
      await sessions.create(tenant, [
        {
          id: sessionId,
          config: {},
          metadata: {},
          status: 'running',
          createdBy: 'user:1',
          ttlSeconds: 3600,
        },
      ]);
      await memory.create(
        tenant,
        {
          memoryId: randomUUID(),
          agentId: 'planner',
          sessionId,
          memoryType: 'working',
          data: { a: 1 },
          createdBy: 'user:1',
          ttlSeconds: 3600,
        },
        65536,
      );
      await cache.set(tenant, {
        key: 'k1',
        data: 1,
        ttlSeconds: 3600,
        tags: ['red'],
        onlyIfAbsent: false,
      });
      expect((await checker.checkTenant(tenant)).violations).toEqual([]);
    });

    async function rules(): Promise<string[]> {
      return (await checker.checkTenant(tenant)).violations.map((v) => v.rule).sort();
    }

    it('a session record deleted behind the indexes', async () => {
      await harness.raw.del(space.record(sessionId));
      // The memory of that session now outlives it, too.
      expect(await rules()).toEqual(['memory-outlives-session', 'session-index-without-record']);
    });

    it('a session missing from its status index, and a stale entry left in another', async () => {
      await harness.raw.zrem(space.byStatus('running'), sessionId);
      await harness.raw.zadd(space.byStatus('paused'), 1, sessionId);
      expect(await rules()).toEqual(['session-missing-from-index', 'stale-index-entry']);
    });

    it('a live session record missing from the all-index', async () => {
      await harness.raw.zrem(space.all, sessionId);
      expect(await rules()).toContain('session-record-without-index');
    });

    it('a memory index entry without its record, and a record dropped from an agent index', async () => {
      await harness.raw.zadd(m.byAgent('critic'), 1, sessionId);
      await harness.raw.zrem(m.byAgent('planner', 'working'), sessionId);
      expect(await rules()).toEqual(['memory-missing-from-index', 'stale-index-entry']);
    });

    it('a memory membership naming the wrong type', async () => {
      await harness.raw.hset(m.members, MemoryKeyspace.member('planner', sessionId), 'shared');
      expect(await rules()).toContain('memory-membership');
    });

    it('a cache entry missing from its tag, and a ghost in the key index', async () => {
      await harness.raw.zrem(c.tag('red'), 'k1');
      await harness.raw.zadd(c.index, 0, 'ghost');
      expect(await rules()).toEqual(['cache-index-without-entry', 'cache-missing-from-tag']);
    });

    it('the CLI exits 1 and prints the violation; 0 when consistent', async () => {
      const env = { ...process.env, REDIS_URL: harness.server.url, REDIS_KEY_PREFIX: 'cc' };
      const cli = ['run', '-s', 'check:consistency', '--', '--tenant', tenant];
      const clean = await run('npm', cli, { cwd: ROOT, env });
      expect(clean.stdout).toContain('1 tenants checked: consistent');

      await harness.raw.del(c.entry('k1'));
      const broken = await run('npm', [...cli, '--json'], { cwd: ROOT, env }).catch(
        (error: { code: number; stdout: string }) => error,
      );
      expect('code' in broken && broken.code).toBe(1);
      const report = JSON.parse(broken.stdout) as {
        consistent: boolean;
        tenants: { violations: { rule: string }[] }[];
      };
      expect(report.consistent).toBe(false);
      // The entry is gone while its key index and tag index still name it.
      expect(report.tenants[0].violations.map((v) => v.rule).sort()).toEqual([
        'cache-index-without-entry',
        'stale-tag-entry',
      ]);
    }, 120_000); // two ts-node start-ups
  });
});
