import type { RedisClient } from '@app/redis/connection/redis-client.factory';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import { JsonPayloadCodec } from '@app/redis/payload-codec';
import { RedisSessionRepository } from '@app/redis/sessions/redis-session.repository';
import type Redis from 'ioredis';
import {
  BATCHES_PER_TENANT,
  BATCH_SIZE,
} from '../../apps/api/src/common/sweeping/periodic-sweeper';
import type { AppConfig } from '../../apps/api/src/config/app-config';
import { SessionExpirySweeper } from '../../apps/api/src/sessions/session-expiry.sweeper';
import { startRedisHarness, type RedisHarness } from '../support/redis-harness';
import { sessionDraft } from '../support/session-draft';

/** Expires a second after it is written. */
const expiring = () => sessionDraft({ ttlSeconds: 1 });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts the tenants each pass visits (the real sweep, observed). */
class CountingSweeper extends SessionExpirySweeper {
  readonly visits: string[] = [];

  protected override sweepTenant(tenant: string) {
    this.visits.push(tenant);
    return super.sweepTenant(tenant);
  }
}

describe('session expiry sweeper draining a backlog larger than one pass share', () => {
  let harness: RedisHarness;
  let client: RedisClient;
  let raw: Redis;
  const keys = new RedisKeyBuilder('it');

  beforeAll(async () => {
    harness = await startRedisHarness(2000);
    ({ client, raw } = harness);
  });

  afterAll(() => harness.stop());

  it('drains it within one tick by follow-up passes over the backlogged tenant only', async () => {
    const repo = new RedisSessionRepository(client, keys, new JsonPayloadCodec());
    const share = BATCHES_PER_TENANT * BATCH_SIZE;
    const backlog = Array.from({ length: share * 2 + 2000 }, expiring);
    for (let i = 0; i < backlog.length; i += 500) {
      await repo.create('big', backlog.slice(i, i + 500));
    }
    await repo.create('small', [expiring(), expiring()]);
    await sleep(1100);

    const config = { sessions: { sweepIntervalMs: 0 } } as AppConfig;
    const sweeper = new CountingSweeper(repo, config);
    const removed = await sweeper.sweep();

    // Before, one tick took one share per tenant: this backlog needed three ticks (3 minutes at
    // the default interval). Now the one tick keeps going until nothing is left.
    // Calls report what they removed (not their cap when they stop on the time budget): exact.
    expect(removed).toBe(backlog.length + 2);
    expect(await raw.zcard(keys.sessions('big').expiry)).toBe(0);
    expect(await raw.zcard(keys.sessions('small').expiry)).toBe(0);
    expect(sweeper.passes).toBeGreaterThanOrEqual(3);
    // The follow-ups visited only the tenant that had work left.
    expect(sweeper.visits.filter((t) => t === 'small')).toHaveLength(1);
    expect(sweeper.visits.filter((t) => t === 'big')).toHaveLength(sweeper.passes);
  });
});
