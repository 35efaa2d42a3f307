import type { RedisClient } from '@app/redis/connection/redis-client.factory';
import { RedisBackupRepository } from '@app/redis/backup/redis-backup.repository';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import { JsonPayloadCodec } from '@app/redis/payload-codec';
import { RedisSessionRepository } from '@app/redis/sessions/redis-session.repository';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { startRedisHarness, type RedisHarness } from '../support/redis-harness';

describe('RedisBackupRepository export batching against a real Redis', () => {
  let harness: RedisHarness;
  let client: RedisClient;
  let raw: Redis;
  const keys = new RedisKeyBuilder('bk');

  beforeAll(async () => {
    harness = await startRedisHarness(2000);
    ({ client, raw } = harness);
  });

  afterAll(() => harness.stop());

  it('reads the tenant in batches of the given size, each with one ZRANGE, never all at once', async () => {
    await raw.flushall();
    const sessions = new RedisSessionRepository(client, keys, new JsonPayloadCodec());
    const total = 1050;
    for (let i = 0; i < total; i += 150) {
      await sessions.create(
        'acme',
        Array.from({ length: 150 }, () => ({
          id: randomUUID(),
          config: { i },
          metadata: {},
          status: 'created',
          createdBy: 'u',
          ttlSeconds: 3600,
        })),
      );
    }
    await sessions.create('other', [
      {
        id: randomUUID(),
        config: {},
        metadata: {},
        status: 'created',
        createdBy: 'o',
        ttlSeconds: 60,
      },
    ]);
    const ranges: string[][] = [];
    const zrange = client.zrange.bind(client) as unknown as (
      ...args: string[]
    ) => Promise<string[]>;
    jest.spyOn(client, 'zrange').mockImplementation(((...args: string[]) => {
      ranges.push(args);
      return zrange(...args);
    }) as unknown as typeof client.zrange);

    const repo = new RedisBackupRepository(client, keys, new JsonPayloadCodec());
    const sizes: number[] = [];
    const ids = new Set<string>();
    for await (const batch of repo.export('acme', { decrypt: false, batchSize: 200 })) {
      sizes.push(batch.length);
      for (const record of batch) if (record.type === 'session') ids.add(record.session_id);
    }
    expect(sizes).toEqual([200, 200, 200, 200, 200, 50]);
    expect(ids.size).toBe(total);
    const sessionRanges = ranges.filter(([key]) => key.endsWith(':sessions'));
    expect(sessionRanges.map(([, start, stop]) => Number(stop) - Number(start) + 1)).toEqual(
      Array(6).fill(200),
    );
    expect(ranges.every(([key]) => key.includes('{acme}'))).toBe(true);
    jest.restoreAllMocks();
  });
});
