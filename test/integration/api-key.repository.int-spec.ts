import type Redis from 'ioredis';
import { RedisApiKeyRepository } from '@app/redis/api-keys/redis-api-key.repository';
import type { NewApiKey } from '@app/redis/api-keys/api-key.repository';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import { startRedisHarness, type RedisHarness } from '../support/redis-harness';

const key = (id: string, overrides: Partial<NewApiKey> = {}): NewApiKey => ({
  id,
  name: `key ${id}`,
  secretHash: 'ab'.repeat(32),
  roles: ['analyst'],
  createdBy: 'admin-1',
  ...overrides,
});

describe('RedisApiKeyRepository against a real Redis', () => {
  let harness: RedisHarness;
  let raw: Redis;
  let repo: RedisApiKeyRepository;

  beforeAll(async () => {
    harness = await startRedisHarness();
    raw = harness.raw;
    repo = new RedisApiKeyRepository(harness.client, new RedisKeyBuilder('it'));
  });

  afterAll(() => harness.stop());

  beforeEach(async () => {
    await raw.flushall();
  });

  it('stores a key with its index entry in the tenant slot, lists and revokes it', async () => {
    const outcome = await repo.create('acme', key('0000000000000001', { scopes: ['read'] }), 10);
    expect(outcome).toEqual({ kind: 'created', createdAt: expect.any(Number) });
    expect((await raw.keys('it:*')).sort()).toEqual([
      'it:{acme}:apikey:0000000000000001',
      'it:{acme}:apikeys',
    ]);
    expect(await repo.get('acme', '0000000000000001')).toMatchObject({
      name: 'key 0000000000000001',
      roles: ['analyst'],
      scopes: ['read'],
      expiresAt: undefined,
    });
    expect(await repo.get('globex', '0000000000000001')).toBeNull();
    expect((await repo.list('acme')).map((k) => k.id)).toEqual(['0000000000000001']);

    expect(await repo.revoke('acme', '0000000000000001')).toBe(true);
    expect(await repo.revoke('acme', '0000000000000001')).toBe(false);
    expect(await raw.keys('it:*')).toEqual([]);
  });

  it('lets Redis expire a key at expires_at and forgets its index entry on the next create', async () => {
    await repo.create('acme', key('0000000000000002', { expiresAt: Date.now() + 300 }), 2);
    expect(await raw.pttl('it:{acme}:apikey:0000000000000002')).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await repo.get('acme', '0000000000000002')).toBeNull();
    expect(await repo.list('acme')).toEqual([]);
    await repo.create('acme', key('0000000000000003'), 2);
    expect(await raw.zrange('it:{acme}:apikeys', '0', '-1')).toEqual(['0000000000000003']);
  });

  it('refuses a key past the per-tenant maximum, counting live keys only', async () => {
    await repo.create('acme', key('0000000000000004'), 2);
    await repo.create('acme', key('0000000000000005'), 2);
    expect(await repo.create('acme', key('0000000000000006'), 2)).toEqual({
      kind: 'limit_reached',
      limit: 2,
    });
    expect(await repo.create('globex', key('0000000000000006'), 2)).toMatchObject({
      kind: 'created',
    });
    await repo.revoke('acme', '0000000000000004');
    expect(await repo.create('acme', key('0000000000000006'), 2)).toMatchObject({
      kind: 'created',
    });
  });
});
