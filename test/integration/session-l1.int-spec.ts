import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { createRedisClient, type RedisClient } from '@app/redis/connection/redis-client.factory';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import { JsonPayloadCodec } from '@app/redis/payload-codec';
import { RedisSessionRepository } from '@app/redis/sessions/redis-session.repository';
import { openSessionL1, trackingConnections, type SessionL1 } from '@app/redis/sessions/session-l1';
import type { NewSession, StoredSession } from '@app/redis/sessions/session.repository';
import { INVALIDATION_CHANNEL, TrackedReadCache } from '@app/redis/l1/tracked-read-cache';
import { RedisServer } from '../support/redis-server';
import { eventually } from '../support/eventually';

const TENANT = 'acme';
const LIMITS = { maxPayloadBytes: 4096 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function draft(overrides: Partial<NewSession> = {}): NewSession {
  return {
    id: randomUUID(),
    config: { step: 1 },
    metadata: {},
    status: 'created',
    createdBy: 'user-1',
    ttlSeconds: 3600,
    ...overrides,
  };
}

/** One API replica's data layer: its own main connection and its own L1 connections. */
interface Replica {
  client: RedisClient;
  l1: SessionL1;
  repo: RedisSessionRepository;
  logs: string[];
}

describe('session L1 cache across two replicas (real Redis, client-side caching)', () => {
  let server: RedisServer;
  let raw: Redis;
  const keys = new RedisKeyBuilder('l1');
  const replicas: Replica[] = [];
  let a: Replica;
  let b: Replica;

  async function replica(ttlMs = 60_000): Promise<Replica> {
    const connection = { url: server.url, commandTimeoutMs: 2000, connectTimeoutMs: 500 };
    const client = createRedisClient(connection);
    const logs: string[] = [];
    const l1 = openSessionL1(connection, { maxEntries: 100, ttlMs }, (_, text) => logs.push(text))!;
    const repo = new RedisSessionRepository(client, keys, new JsonPayloadCodec(), l1);
    await eventually(() => expect(l1.active && client.status === 'ready').toBe(true));
    const made = { client, l1, repo, logs };
    replicas.push(made);
    return made;
  }

  /** HGETALLs Redis has run: an L1 hit runs none. */
  async function hgetalls(): Promise<number> {
    const stats = await raw.info('commandstats');
    return Number(/cmdstat_hgetall:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  }

  beforeAll(async () => {
    server = await RedisServer.start();
    raw = new Redis(server.port, '127.0.0.1');
    a = await replica();
    b = await replica();
  });

  afterAll(async () => {
    for (const r of replicas) {
      await r.l1.close();
      r.client.disconnect();
    }
    raw.disconnect();
    await server.dispose();
  });

  it('serves a repeated read from the L1, and the version it cached with its payload', async () => {
    const session = draft();
    await a.repo.create(TENANT, [session]);
    const first = await a.repo.getRecent(TENANT, session.id);
    const before = await hgetalls();
    const second = await a.repo.getRecent(TENANT, session.id);
    expect(await hgetalls()).toBe(before);
    expect(second).toEqual(first);
    expect(second).toMatchObject({ version: 1, config: { step: 1 } });
    expect(Object.isFrozen(second?.config)).toBe(true);
  });

  it("drops A's entry when B writes: A's next read after the invalidation shows B's write", async () => {
    const session = draft();
    await a.repo.create(TENANT, [session]);
    expect(await a.repo.getRecent(TENANT, session.id)).toMatchObject({ version: 1 });
    expect(a.l1.size).toBeGreaterThan(0);

    const outcome = await b.repo.update(TENANT, session.id, { config: { step: 2 } }, LIMITS);
    expect(outcome).toMatchObject({ kind: 'updated', version: 2 });

    // The invalidation travels on A's subscriber connection; once it is in, A reads the write.
    await eventually(async () =>
      expect(await a.repo.getRecent(TENANT, session.id)).toMatchObject({
        version: 2,
        config: { step: 2 },
      }),
    );
  });

  it('drops entries written by any client, deleted, or flushed', async () => {
    const session = draft();
    await a.repo.create(TENANT, [session]);
    const record = keys.sessions(TENANT).record(session.id);
    await a.repo.getRecent(TENANT, session.id);

    await raw.hset(record, 'status', 'running'); // a writer outside the API
    await eventually(async () =>
      expect(await a.repo.getRecent(TENANT, session.id)).toMatchObject({ status: 'running' }),
    );

    await b.repo.delete(TENANT, [session.id]);
    await eventually(async () => expect(await a.repo.getRecent(TENANT, session.id)).toBeNull());

    const other = draft();
    await a.repo.create(TENANT, [other]);
    await a.repo.getRecent(TENANT, other.id);
    expect(a.l1.size).toBeGreaterThan(0);
    await raw.flushall(); // a null-key invalidation: everything goes
    await eventually(() => expect(a.l1.size).toBe(0));
    expect(a.logs.at(-1)).toMatch(/cleared: Redis flushed/);
    expect(await a.repo.getRecent(TENANT, other.id)).toBeNull();
    expect(a.l1.active).toBe(true);
  });

  it("shows a replica its own write at once, without waiting for Redis' message", async () => {
    const session = draft();
    await a.repo.create(TENANT, [session]);
    await a.repo.getRecent(TENANT, session.id);
    await a.repo.mergePatch(TENANT, session.id, { metadata: { seen: true } }, LIMITS);
    expect(await a.repo.getRecent(TENANT, session.id)).toMatchObject({
      version: 2,
      metadata: { seen: true },
    });
  });

  it('If-Match with an ETag served from the L1 behaves exactly as without the L1', async () => {
    const session = draft();
    await a.repo.create(TENANT, [session]);
    const cached = (await a.repo.getRecent(TENANT, session.id)) as StoredSession;
    const uncached = (await b.repo.get(TENANT, session.id)) as StoredSession;
    expect(cached.version).toBe(uncached.version);

    // The CAS runs in Redis on the primary: the L1 copy neither helps nor hinders it.
    const won = await b.repo.update(
      TENANT,
      session.id,
      { status: 'running' },
      { ...LIMITS, expectedVersion: cached.version },
    );
    expect(won).toMatchObject({ kind: 'updated', version: cached.version + 1 });
    // A stale ETag, even one A may still be serving before its invalidation arrives, is refused.
    const lost = await a.repo.update(
      TENANT,
      session.id,
      { status: 'done' },
      { ...LIMITS, expectedVersion: cached.version },
    );
    expect(lost).toEqual({ kind: 'version_mismatch', currentVersion: cached.version + 1 });
    const fresh = (await a.repo.getRecent(TENANT, session.id)) as StoredSession;
    expect(fresh).toMatchObject({ version: cached.version + 1, status: 'running' });
    expect(
      await a.repo.update(
        TENANT,
        session.id,
        { status: 'done' },
        { ...LIMITS, expectedVersion: fresh.version },
      ),
    ).toMatchObject({ kind: 'updated', version: fresh.version + 1 });
  });

  it('never serves a session past its expires_at', async () => {
    const session = draft({ ttlSeconds: 1 });
    await a.repo.create(TENANT, [session]);
    const read = (await a.repo.getRecent(TENANT, session.id)) as StoredSession;
    await sleep(Math.max(0, read.expiresAt - Date.now()) + 5);
    expect(await a.repo.getRecent(TENANT, session.id)).toBeNull();
  });

  it('clears the L1 and reads from Redis while a connection reconnects, then resumes', async () => {
    const session = draft();
    await a.repo.create(TENANT, [session]);
    await a.repo.getRecent(TENANT, session.id);
    expect(a.l1.size).toBeGreaterThan(0);
    const closed = new Promise<void>((resolve) => {
      const started = a.logs.length;
      const timer = setInterval(() => {
        if (a.logs.slice(started).some((line) => line.includes('off until tracking resumes'))) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await closed;
    expect(a.l1.size).toBe(0);
    // Written while A's subscriber is away: that invalidation is lost, so nothing may be cached.
    await raw.hset(keys.sessions(TENANT).record(session.id), 'status', 'paused');
    expect(await a.repo.getRecent(TENANT, session.id)).toMatchObject({ status: 'paused' });
    await eventually(() => expect(a.l1.active).toBe(true));
    expect(a.logs.at(-1)).toMatch(/session L1 cache on/);

    // And the same for the readers (the connections with tracking on: flag t).
    await a.repo.getRecent(TENANT, session.id);
    expect(a.l1.size).toBeGreaterThan(0);
    const readers = ((await raw.client('LIST')) as string)
      .split('\n')
      .filter((line) => /flags=\S*t/.test(line))
      .map((line) => /^id=(\d+)/.exec(line)?.[1]);
    expect(readers.length).toBe(2);
    for (const id of readers) await raw.call('CLIENT', 'KILL', 'ID', String(id));
    await eventually(() => expect(a.l1.size).toBe(0));
    await eventually(() => expect(a.l1.active).toBe(true));
    expect(await a.repo.getRecent(TENANT, session.id)).toMatchObject({ status: 'paused' });
  });
});

describe('TrackedReadCache bounds (real Redis)', () => {
  let server: RedisServer;
  let raw: Redis;
  const opened: TrackedReadCache<string | null>[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    raw = new Redis(server.port, '127.0.0.1');
  });

  afterAll(async () => {
    for (const cache of opened) await cache.close();
    raw.disconnect();
    await server.dispose();
  });

  async function cache(ttlMs: number) {
    const { reader, subscriber } = trackingConnections({
      url: server.url,
      commandTimeoutMs: 2000,
      connectTimeoutMs: 500,
    })!;
    const l1 = new TrackedReadCache<string | null>(
      reader,
      subscriber,
      { maxEntries: 10, ttlMs },
      () => {},
    );
    opened.push(l1);
    await eventually(() => expect(l1.active).toBe(true));
    const read = (key: string) =>
      l1.read(
        key,
        (connection) => connection.get(key),
        () => raw.get(key),
        () => Infinity,
      );
    return { l1, subscriber, read };
  }

  it('serves no value older than its TTL, even when every invalidation is lost', async () => {
    const ttlMs = 300;
    const { subscriber, read } = await cache(ttlMs);
    await raw.set('k', 'old');
    expect(await read('k')).toBe('old');
    // Deaf to invalidations, yet still "active": only the TTL bounds what it serves now.
    await subscriber.unsubscribe(INVALIDATION_CHANNEL);
    await raw.set('k', 'new');
    const written = performance.now();
    for (;;) {
      const started = performance.now();
      const value = await read('k');
      if (started >= written + ttlMs) {
        expect(value).toBe('new');
        break;
      }
      await sleep(20);
    }
  });

  it('does not fill from a read that an invalidation overtook', async () => {
    const { l1, subscriber } = await cache(60_000);
    await raw.set('race', 'v1');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const reading = l1.read(
      'race',
      async (connection) => {
        const value = await connection.get('race');
        await gate; // the reply is "still on its way" when the invalidation comes in
        return value;
      },
      () => raw.get('race'),
      () => Infinity,
    );
    await eventually(() => expect(raw.get('race')).resolves.toBe('v1'));
    const invalidated = new Promise<void>((resolve) => subscriber.once('messageBuffer', resolve));
    await raw.set('race', 'v2');
    await invalidated;
    release();
    expect(await reading).toBe('v1');
    expect(l1.size).toBe(0);
  });
});

describe('session L1 cache where Redis refuses CLIENT TRACKING', () => {
  let server: RedisServer;

  beforeAll(async () => {
    // An ACL that forbids tracking (as a managed Redis may): the L1 must stay off, loudly.
    server = await RedisServer.start([
      '--user',
      'default',
      'on',
      'nopass',
      '~*',
      '&*',
      '+@all',
      '-client|tracking',
    ]);
  });

  afterAll(() => server.dispose());

  it('stays off with a log line, and reads still go to Redis', async () => {
    const connection = { url: server.url, commandTimeoutMs: 2000, connectTimeoutMs: 500 };
    const client = createRedisClient(connection);
    const logs: string[] = [];
    const l1 = openSessionL1(connection, { maxEntries: 10, ttlMs: 60_000 }, (_, text) =>
      logs.push(text),
    )!;
    try {
      const keys = new RedisKeyBuilder('acl');
      const repo = new RedisSessionRepository(client, keys, new JsonPayloadCodec(), l1);
      await eventually(() => expect(logs.join('\n')).toMatch(/stays off: .*NOPERM/));
      await eventually(() => expect(client.status).toBe('ready'));
      const session = draft();
      await repo.create(TENANT, [session]);
      expect(await repo.getRecent(TENANT, session.id)).toMatchObject({ version: 1 });
      await repo.update(TENANT, session.id, { status: 'running' }, LIMITS);
      expect(await repo.getRecent(TENANT, session.id)).toMatchObject({ status: 'running' });
      expect(l1.active).toBe(false);
      expect(l1.size).toBe(0);
    } finally {
      await l1.close();
      client.disconnect();
    }
  });
});
