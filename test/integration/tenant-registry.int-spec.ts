import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import { JsonPayloadCodec } from '@app/redis/payload-codec';
import { RedisSessionRepository } from '@app/redis/sessions/redis-session.repository';
import {
  TENANT_REGISTRY_SHARDS,
  TenantRegistry,
  TENANT_REGISTRATION_REFRESH_MS,
} from '@app/redis/tenant-registry';
import { startRedisHarness, type RedisHarness } from '../support/redis-harness';

describe('TenantRegistry against a real Redis', () => {
  let harness: RedisHarness;
  const keys = new RedisKeyBuilder('tr');

  beforeAll(async () => {
    harness = await startRedisHarness(2000);
  });

  afterAll(() => harness.stop());

  beforeEach(() => harness.raw.flushall());

  const clients: Redis[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.disconnect();
  });

  async function listed(registry: TenantRegistry): Promise<string[]> {
    const tenants: string[] = [];
    for await (const batch of registry.list()) tenants.push(...batch);
    return tenants.sort();
  }

  async function saddCalls(): Promise<number> {
    const info = await harness.raw.info('commandstats');
    return Number(/cmdstat_sadd:calls=(\d+)/.exec(info)?.[1] ?? 0);
  }

  /** A clock the test moves, and a registry (with its own client-scoped memory) reading it. */
  function clocked(): { registry: TenantRegistry; advance(ms: number): void } {
    let now = 1_000_000;
    // A client of its own: what one process remembers is per client (a process of its own).
    const client = harness.raw.duplicate();
    clients.push(client);
    return {
      registry: new TenantRegistry(client, keys, { now: () => now }),
      advance: (ms) => {
        now += ms;
      },
    };
  }

  it('spreads tenants over shard keys in different slots and lists each exactly once', async () => {
    const { registry } = clocked();
    const tenants = Array.from({ length: 200 }, (_, i) => `tenant-${i}`);
    await Promise.all(tenants.map((tenant) => registry.add(tenant)));

    expect(await listed(registry)).toEqual([...tenants].sort());
    const shards = await harness.raw.keys('tr:tenants:*');
    expect(shards.length).toBeGreaterThanOrEqual(TENANT_REGISTRY_SHARDS - 2);
    // One hash tag per shard: Cluster puts them in different slots.
    expect(new Set(shards.map((key) => /\{(\d+)\}$/.exec(key)?.[1])).size).toBe(shards.length);
    expect(await harness.raw.exists(keys.tenantRegistry())).toBe(0);
  });

  it('writes a registration once per refresh period, not on every write', async () => {
    const { registry, advance } = clocked();
    await harness.raw.config('RESETSTAT');
    for (let i = 0; i < 100; i++) await registry.add('busy');
    expect(await saddCalls()).toBe(1);

    advance(TENANT_REGISTRATION_REFRESH_MS);
    for (let i = 0; i < 100; i++) await registry.add('busy');
    expect(await saddCalls()).toBe(2);
  });

  it('registers again at the next write after Redis lost its data', async () => {
    const { registry } = clocked();
    await registry.add('acme');
    await harness.raw.flushall();
    await registry.add('acme');
    expect(await listed(registry)).toEqual(['acme']);
  });

  it('re-registers within one refresh when only the shard entry was lost', async () => {
    const { registry, advance } = clocked();
    await registry.add('acme');
    await harness.raw.srem(registry.shardOf('acme'), 'acme');
    await registry.add('acme');
    expect(await listed(registry)).toEqual([]);

    advance(TENANT_REGISTRATION_REFRESH_MS);
    await registry.add('acme');
    expect(await listed(registry)).toEqual(['acme']);
  });

  it('lists tenants registered in the old unsharded set, and lets them leave it', async () => {
    const { registry } = clocked();
    await harness.raw.sadd(keys.tenantRegistry(), 'legacy');
    expect(await listed(registry)).toEqual(['legacy']);
    expect(await registry.leaveIfEmpty('legacy')).toBe(true);
    expect(await listed(registry)).toEqual([]);
  });

  it('lets a tenant leave only when every index and its audit stream are empty', async () => {
    const { registry, advance } = clocked();
    const holding: [string, () => Promise<unknown>][] = [
      ['sessions', () => harness.raw.zadd(keys.sessions('a').all, 1, 's')],
      ['session expiry', () => harness.raw.zadd(keys.sessions('a').expiry, 1, 's')],
      ['memory expiry', () => harness.raw.zadd(keys.memory('a').expiry, 1, 'm')],
      ['cache index', () => harness.raw.zadd(keys.cache('a').index, 0, 'k')],
      ['cache tags', () => harness.raw.sadd(keys.cache('a').tagRegistry, 't')],
      ['audit stream', () => harness.raw.xadd(keys.audit('a').stream, '*', 'f', 'v')],
    ];
    for (const [what, write] of holding) {
      await harness.raw.flushall();
      advance(TENANT_REGISTRATION_REFRESH_MS);
      await registry.add('a');
      await write();
      expect([what, await registry.leaveIfEmpty('a')]).toEqual([what, false]);
      expect(await listed(registry)).toEqual(['a']);
    }
    await harness.raw.flushall();
    advance(TENANT_REGISTRATION_REFRESH_MS);
    await registry.add('a');
    expect(await registry.leaveIfEmpty('a')).toBe(true);
    expect(await listed(registry)).toEqual([]);
  });

  it('never loses a tenant whose create races its departure', async () => {
    const sessions = new RedisSessionRepository(harness.client, keys, new JsonPayloadCodec());
    // The sweeper runs in another process than the writer.
    const { registry } = clocked();
    const outcomes = new Set<boolean>();
    let previous: string | undefined;
    for (let round = 0; round < 100; round++) {
      // The tenant is registered and empty: its only session was just deleted.
      if (previous) await sessions.delete('racy', [previous]);
      previous = randomUUID();
      const create = () =>
        sessions.create('racy', [
          {
            id: previous as string,
            config: {},
            metadata: {},
            status: 'running',
            createdBy: 'u',
            ttlSeconds: 60,
          },
        ]);
      // The create starts 0 to 2 ms after the departure: it lands before its first emptiness check,
      // between the checks, or after the departure.
      const delayed = () => new Promise((resolve) => setTimeout(resolve, round % 3)).then(create);
      const [departed] = await Promise.all([registry.leaveIfEmpty('racy'), delayed()]);
      outcomes.add(departed);
      // Whoever won, a tenant that holds a session is in the registry.
      expect(await listed(registry)).toEqual(['racy']);
    }
    // Both orders happened: departures that saw the tenant empty, and ones the create beat.
    expect([...outcomes].sort()).toEqual([false, true]);
  });

  it('another process that still remembers the tenant registers it again at its next write', async () => {
    const a = clocked();
    const b = clocked();
    await a.registry.add('shared');
    await b.registry.add('shared');
    // A's sweeper sees the tenant empty; B remembers its registration and writes.
    expect(await a.registry.leaveIfEmpty('shared')).toBe(true);
    await harness.raw.zadd(keys.sessions('shared').all, 1, 's');
    await b.registry.add('shared');
    expect(await listed(a.registry)).toEqual(['shared']);
  });

  /** Read events on the server (one per round trip of a client) over `work`, minus the INFO. */
  async function roundTrips(work: () => Promise<unknown>): Promise<number> {
    const reads = async () =>
      Number(/total_reads_processed:(\d+)/.exec(await harness.raw.info('stats'))?.[1]);
    const before = await reads();
    await work();
    return (await reads()) - before - 1;
  }

  const session = () => ({
    id: randomUUID(),
    config: {},
    metadata: {},
    status: 'running' as const,
    createdBy: 'u',
    ttlSeconds: 60,
  });

  it('a registered tenant’s create is one round trip: its script reports the marker', async () => {
    const sessions = new RedisSessionRepository(harness.client, keys, new JsonPayloadCodec());
    await sessions.create('steady', [session()]);
    expect(await harness.raw.exists(keys.tenantRegistration('steady'))).toBe(1);
    const trips = await roundTrips(async () => {
      for (let i = 0; i < 20; i++) await sessions.create('steady', [session()]);
    });
    expect(trips).toBe(20);
    expect(await listed(new TenantRegistry(harness.raw, keys))).toEqual(['steady']);
  });

  it('a create whose script finds the marker gone registers the tenant again', async () => {
    const sessions = new RedisSessionRepository(harness.client, keys, new JsonPayloadCodec());
    await sessions.create('left', [session()]);
    // A departure from another process took the marker and the shard entry just before this write.
    const registry = new TenantRegistry(harness.raw, keys);
    await harness.raw.del(keys.tenantRegistration('left'));
    await harness.raw.srem(registry.shardOf('left'), 'left');
    await sessions.create('left', [session()]);
    expect(await listed(registry)).toEqual(['left']);
    expect(await harness.raw.exists(keys.tenantRegistration('left'))).toBe(1);
  });

  it('the session sweeper lets a tenant leave once its last session is deleted', async () => {
    const sessions = new RedisSessionRepository(harness.client, keys, new JsonPayloadCodec());
    const id = randomUUID();
    await sessions.create('gone', [
      { id, config: {}, metadata: {}, status: 'running', createdBy: 'u', ttlSeconds: 60 },
    ]);
    expect(await sessions.releaseIfEmpty('gone')).toBe(false);
    await sessions.delete('gone', [id]);
    expect(await sessions.releaseIfEmpty('gone')).toBe(true);
    const tenants: string[] = [];
    for await (const batch of sessions.tenants()) tenants.push(...batch);
    expect(tenants).toEqual([]);
  });
});
