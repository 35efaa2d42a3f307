import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { subscribeRedisCommands } from '@app/redis';
import { attachBreaker } from '@app/redis/connection/breaker-gate';
import type { CircuitBreaker } from '@app/redis/connection/circuit-breaker';
import { attachedReader, readPreferringReplica } from '@app/redis/connection/read-replicas';
import { createRedisClient, type RedisClient } from '@app/redis/connection/redis-client.factory';
import type { StoredEvent } from '@app/redis/events/events.repository';
import { RedisEventsRepository } from '@app/redis/events/redis-events.repository';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import { JsonPayloadCodec } from '@app/redis/payload-codec';
import { RedisSessionRepository } from '@app/redis/sessions/redis-session.repository';
import { openSessionL1, type SessionL1 } from '@app/redis/sessions/session-l1';
import type { NewSession } from '@app/redis/sessions/session.repository';
import { StoreUnavailableError } from '@app/redis/store-errors';
import { eventually } from '../support/eventually';
import { RedisServer } from '../support/redis-server';
import { StallingProxy } from '../support/stalling-proxy';

const BREAKER = { failureThreshold: 2, windowMs: 10_000, probeIntervalMs: 50, probeTimeoutMs: 100 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function draft(id: string): NewSession {
  return {
    id,
    config: { step: 1 },
    metadata: {},
    status: 'created',
    createdBy: 'u',
    ttlSeconds: 3600,
  };
}

/**
 * Commands written to one connection and not answered yet: what piles up while Redis hangs. A
 * command that timed out stays counted until Redis answers it (ioredis keeps it to match replies).
 */
const pending = (client: Redis) => client.commandQueue.length;

/** Runs `call`, returning how long it took and whether it succeeded. */
async function timed<T>(
  call: () => Promise<T>,
): Promise<{ ms: number; ok: boolean; error?: unknown }> {
  const started = performance.now();
  try {
    await call();
    return { ms: performance.now() - started, ok: true };
  } catch (error) {
    return { ms: performance.now() - started, ok: false, error };
  }
}

/**
 * Issue #11 for the connections besides the main client: while the Redis one of them talks to is
 * frozen (kill -STOP), requests must not wait on it one command timeout each, nothing may pile up
 * on it, and after kill -CONT it must serve again without a restart.
 */
describe('Redis connections besides the main client under a hung Redis', () => {
  describe('session L1 reader (SESSION_L1_CACHE): a breaker of its own', () => {
    let server: RedisServer;
    let client: RedisClient;
    let l1: SessionL1;
    let reader: Redis | undefined;
    let readerBreaker: CircuitBreaker | undefined;
    let mainBreaker: CircuitBreaker;
    let repo: RedisSessionRepository;
    const keys = new RedisKeyBuilder('brk');

    beforeAll(async () => {
      server = await RedisServer.start();
      const connection = { url: server.url, commandTimeoutMs: 300, connectTimeoutMs: 500 };
      client = createRedisClient(connection);
      mainBreaker = attachBreaker(client, BREAKER);
      // As RedisModule wires it: the breaker goes on the reader before the cache listens to it.
      l1 = openSessionL1(
        connection,
        { maxEntries: 100, ttlMs: 60_000 },
        () => undefined,
        (tracked) => {
          reader = tracked;
          readerBreaker = attachBreaker(tracked, BREAKER);
        },
      )!;
      repo = new RedisSessionRepository(client, keys, new JsonPayloadCodec(), l1);
      await eventually(() => expect(l1.active && client.status === 'ready').toBe(true));
    });

    afterAll(async () => {
      server.resume();
      await l1.close();
      client.disconnect();
      await server.dispose();
    });

    it('answers at once once open, sends nothing but probe PINGs, and serves from the L1 after kill -CONT', async () => {
      const ids = Array.from({ length: 30 }, () => randomUUID());
      await repo.create('acme', ids.map(draft));
      server.pause();

      // Each read misses the L1 (nothing was read yet), so it goes to the tracked reader: two
      // time out and open its breaker; then the L1 falls back to the main client, whose own
      // breaker opens the same way. Eight reads leave a margin.
      for (let i = 0; i < 8; i++) await timed(() => repo.getRecent('acme', ids[i]));

      const written: string[] = [];
      const unsubscribe = subscribeRedisCommands<void>({
        start: (event) => void written.push(event.command),
        end: () => undefined,
      });
      const queued = reader ? pending(reader) : 0;
      let reads: Awaited<ReturnType<typeof timed>>[];
      try {
        reads = await Promise.all(
          ids.slice(20).map((id) => timed(() => repo.getRecent('acme', id))),
        );
      } finally {
        unsubscribe();
      }
      for (const read of reads) {
        expect(read.ok).toBe(false);
        expect(read.error).toBeInstanceOf(StoreUnavailableError);
        expect((read.error as StoreUnavailableError).failure).toBe('unreachable');
        // Refused before sending: far below the 300 ms command timeout.
        expect(read.ms).toBeLessThan(100);
      }
      expect(written.filter((command) => command !== 'ping')).toEqual([]);
      if (reader) expect(pending(reader)).toBeLessThanOrEqual(queued);
      expect(readerBreaker?.state).toBe('open');
      expect(mainBreaker.state).toBe('open');

      server.resume();
      await eventually(() => repo.getRecent('acme', ids[29]), 5000);
      await eventually(async () => {
        await repo.getRecent('acme', ids[28]);
        expect(readerBreaker?.state).toBe('closed');
      }, 5000);
      // The main client gets its trial from the next read that is not for the L1.
      await eventually(() => repo.get('acme', ids[0]), 5000);
      expect(mainBreaker.state).toBe('closed');
      expect(l1.active).toBe(true);
      // Filled through the tracked reader again: a second read is an L1 hit, no command at all.
      await repo.getRecent('acme', ids[27]);
      const again: string[] = [];
      const watch = subscribeRedisCommands<void>({
        start: (event) => void again.push(event.command),
        end: () => undefined,
      });
      try {
        expect(await repo.getRecent('acme', ids[27])).toMatchObject({ id: ids[27] });
      } finally {
        watch();
      }
      expect(again).toEqual([]);
    }, 30_000);
  });

  describe('session L1 reader whose own connection stops answering (Redis is fine)', () => {
    let server: RedisServer;
    let proxy: StallingProxy;
    let raw: Redis;
    let client: RedisClient;
    let l1: SessionL1;
    let readerBreaker: CircuitBreaker | undefined;
    let repo: RedisSessionRepository;
    const keys = new RedisKeyBuilder('brkpx');
    const hgetalls = async () =>
      Number(/cmdstat_hgetall:calls=(\d+)/.exec(await raw.info('commandstats'))?.[1] ?? 0);

    beforeAll(async () => {
      server = await RedisServer.start();
      proxy = await StallingProxy.start(server.port);
      raw = new Redis(server.port, '127.0.0.1');
      const connection = { url: server.url, commandTimeoutMs: 300, connectTimeoutMs: 500 };
      client = createRedisClient(connection);
      attachBreaker(client, BREAKER);
      // Only the L1's connections go through the proxy.
      l1 = openSessionL1(
        { ...connection, url: proxy.url },
        { maxEntries: 100, ttlMs: 60_000 },
        () => undefined,
        (tracked) => void (readerBreaker = attachBreaker(tracked, BREAKER)),
      )!;
      repo = new RedisSessionRepository(client, keys, new JsonPayloadCodec(), l1);
      await eventually(() => expect(l1.active && client.status === 'ready').toBe(true));
    });

    afterAll(async () => {
      proxy.release();
      await l1.close();
      client.disconnect();
      raw.disconnect();
      await proxy.close();
      await server.dispose();
    });

    it('serves reads through the main client at once while the L1 reader is open, and the L1 again after', async () => {
      const ids = Array.from({ length: 20 }, () => randomUUID());
      await repo.create('acme', ids.map(draft));
      proxy.stall();

      // Two reads wait out the timeout on the stuck reader and open its breaker.
      for (let i = 0; i < 2; i++) await timed(() => repo.getRecent('acme', ids[i]));
      expect(readerBreaker?.state).toBe('open');

      const reads = await Promise.all(
        ids.slice(2, 12).map(async (id) => {
          const started = performance.now();
          const session = await repo.getRecent('acme', id);
          return { id, session, ms: performance.now() - started };
        }),
      );
      for (const read of reads) {
        expect(read.session).toMatchObject({ id: read.id });
        expect(read.ms).toBeLessThan(100);
      }

      // A probe is answered (half-open) and the trial read hangs again: the other reads meanwhile
      // are not refused by the reader's breaker but served by the main client.
      proxy.release();
      await eventually(() => expect(readerBreaker?.state).toBe('half_open'), 5000);
      proxy.stall();
      const trial = timed(() => repo.getRecent('acme', ids[14]));
      const meanwhile = await Promise.all(
        ids.slice(15, 20).map((id) => timed(() => repo.getRecent('acme', id))),
      );
      for (const read of meanwhile) {
        expect(read.ok).toBe(true);
        expect(read.ms).toBeLessThan(100);
      }
      expect((await trial).ok).toBe(false);
      expect(readerBreaker?.state).toBe('open');

      proxy.release();
      await eventually(async () => {
        await repo.getRecent('acme', ids[12]);
        expect(readerBreaker?.state).toBe('closed');
      }, 5000);
      // Back on the L1: the second read of a session costs Redis nothing.
      await repo.getRecent('acme', ids[13]);
      const before = await hgetalls();
      expect(await repo.getRecent('acme', ids[13])).toMatchObject({ id: ids[13] });
      expect(await hgetalls()).toBe(before);
    }, 30_000);
  });

  describe('replica reader (REDIS_READ_FROM=replica): the route is its breaker', () => {
    let primary: RedisServer;
    let replica: RedisServer;
    let rawReplica: Redis;
    let client: RedisClient;
    let replicaClient: Redis;

    beforeAll(async () => {
      primary = await RedisServer.start();
      replica = await RedisServer.start(['--replicaof', '127.0.0.1', String(primary.port)]);
      rawReplica = new Redis(replica.port, '127.0.0.1');
      client = createRedisClient({
        url: primary.url,
        commandTimeoutMs: 1000,
        connectTimeoutMs: 500,
        readFrom: 'replica',
        replicaUrl: replica.url,
      });
      replicaClient = attachedReader(client) as Redis;
      await eventually(() => expect(client.status).toBe('ready'));
      await client.set('k', 'v');
      await eventually(async () => expect(await rawReplica.get('k')).toBe('v'), 10_000);
    }, 30_000);

    afterAll(async () => {
      replica.resume();
      rawReplica.disconnect();
      replicaClient.disconnect();
      client.disconnect();
      await replica.dispose();
      await primary.dispose();
    });

    const gets = async (node: Redis) =>
      Number(/cmdstat_get:calls=(\d+)/.exec(await node.info('commandstats'))?.[1] ?? 0);
    const read = () => readPreferringReplica(client, (connection) => connection.get('k'));

    it('leaves the replica at the first read past REDIS_REPLICA_READ_TIMEOUT_MS (500 ms), then nothing more piles up, and returns after -CONT', async () => {
      await eventually(async () => {
        const before = await gets(rawReplica);
        await read();
        expect(await gets(rawReplica)).toBe(before + 1);
      }, 10_000);

      replica.pause();
      const stoppedAt = performance.now();
      // 10 reads every 50 ms for 3 s, each wave sent without waiting for the last (open loop,
      // as requests arrive): what the stop costs is what is sent before the route notices.
      const reads: Promise<{ sentAt: number; ms: number; ok: boolean }>[] = [];
      const queued: [number, number][] = [];
      while (performance.now() - stoppedAt < 3000) {
        const sentAt = performance.now() - stoppedAt;
        for (let i = 0; i < 10; i++) reads.push(timed(read).then((r) => ({ sentAt, ...r })));
        queued.push([sentAt, pending(replicaClient)]);
        await sleep(50);
      }
      const results = await Promise.all(reads);
      const late = results.filter((r) => r.ms > 100);
      process.stdout.write(
        `stopped replica: ${results.length} reads, ${late.length} over 100 ms (the last sent at ` +
          `${Math.max(...late.map((r) => r.sentAt)).toFixed(0)} ms), slowest ` +
          `${Math.max(...results.map((r) => r.ms)).toFixed(0)} ms\n`,
      );
      // Every read is answered (the primary serves what the replica did not).
      expect(results.filter((r) => !r.ok)).toEqual([]);
      // None waits the 1 s command timeout: the replica is left once the first read sent to it
      // misses its deadline, and reads sent from then on go to the primary at once.
      expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(800);
      expect(late.filter((r) => r.sentAt > 700)).toEqual([]);
      // From then on nothing more piles up on the replica connection but a probe a second.
      const settled = queued.filter(([at]) => at > 700).map(([, count]) => count);
      expect(Math.max(...settled) - Math.min(...settled)).toBeLessThanOrEqual(3);

      replica.resume();
      await eventually(async () => {
        const before = await gets(rawReplica);
        await read();
        expect(await gets(rawReplica)).toBe(before + 1);
      }, 10_000);
    }, 40_000);
  });

  describe('events reader (SSE): one blocking read at a time', () => {
    let server: RedisServer;
    let raw: Redis;
    let client: RedisClient;
    let events: RedisEventsRepository;
    const keys = new RedisKeyBuilder('brkev');

    beforeAll(async () => {
      server = await RedisServer.start();
      raw = new Redis(server.port, '127.0.0.1');
      client = createRedisClient({ url: server.url, commandTimeoutMs: 300, connectTimeoutMs: 500 });
      events = new RedisEventsRepository(
        client,
        { url: server.url, commandTimeoutMs: 300, connectTimeoutMs: 500, keyPrefix: 'brkev' },
        keys,
      );
      await eventually(() => expect(client.status).toBe('ready'));
    });

    afterAll(async () => {
      server.resume();
      events.onApplicationShutdown();
      raw.disconnect();
      client.disconnect();
      await server.dispose();
    });

    it('sends one XREAD at a time while Redis is stopped and delivers again after kill -CONT', async () => {
      const stream = keys.events('acme').stream;
      const received: StoredEvent[] = [];
      await events.subscribe('acme', (batch) => void received.push(...batch));
      await raw.xadd(stream, '*', 't', 'session.created', 'rt', 'session', 'rid', 'a', 'a', 'u');
      await eventually(() => expect(received.map((e) => e.resourceId)).toEqual(['a']));
      const reader = (events as unknown as { reader: Redis }).reader;

      const written: string[] = [];
      const unsubscribe = subscribeRedisCommands<void>({
        start: (event) => void written.push(event.command),
        end: () => undefined,
      });
      server.pause();
      let maxPending = 0;
      try {
        const until = performance.now() + 6000;
        while (performance.now() < until) {
          maxPending = Math.max(maxPending, pending(reader));
          await sleep(20);
        }
      } finally {
        unsubscribe();
      }
      // One XREAD (blocking 2 s, timing out 0.3 s later), then a 1 s pause: about two in 6 s.
      expect(maxPending).toBeLessThanOrEqual(3);
      expect(written.filter((command) => command === 'xread').length).toBeLessThanOrEqual(3);

      server.resume();
      await raw.xadd(stream, '*', 't', 'session.created', 'rt', 'session', 'rid', 'b', 'a', 'u');
      await eventually(() => expect(received.map((e) => e.resourceId)).toEqual(['a', 'b']), 10_000);
    }, 30_000);
  });
});
