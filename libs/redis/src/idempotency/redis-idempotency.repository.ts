import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../connection/redis-client.factory';
import { IdempotencyKeyspace } from '../keys/idempotency-keyspace';
import { RedisKeyBuilder } from '../keys/redis-key-builder';
import { LuaScript } from '../lua-script';
import { REDIS_CLIENT } from '../redis.constants';
import { replicatedWrite } from '../replicated-write';
import { storeCall } from '../store-errors';
import {
  IdempotencyRepository,
  type IdempotencyBegin,
  type StoredResponse,
} from './idempotency.repository';

/**
 * KEYS[1]=record. ARGV: pending value, ttl ms. SET NX, or hand back what is there. A pending marker
 * lost in a failover only lets a concurrent retry run, so it does not wait for replicas.
 */
const BEGIN = new LuaScript(
  'idempotency.begin',
  `
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`,
  { awaitReplicas: false },
);

/** KEYS[1]=record. ARGV: pending value. Deletes only our own pending marker. */
const ABANDON = new LuaScript(
  'idempotency.abandon',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
  { awaitReplicas: false },
);

interface Pending {
  s: 'pending';
  f: string;
  t: string;
}
interface Done {
  s: 'done';
  f: string;
  r: StoredResponse;
}

@Injectable()
export class RedisIdempotencyRepository extends IdempotencyRepository {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    private readonly keys: RedisKeyBuilder,
  ) {
    super();
  }

  async begin(
    tenant: string,
    scope: string,
    key: string,
    fingerprint: string,
    inFlightMs: number,
  ): Promise<IdempotencyBegin> {
    const token = randomUUID();
    const pending: Pending = { s: 'pending', f: fingerprint, t: token };
    const current = (await storeCall(() =>
      BEGIN.run(this.redis, [this.key(tenant, scope, key)], [JSON.stringify(pending), inFlightMs]),
    )) as string | null;
    if (current === null) return { kind: 'started', token };
    const stored = JSON.parse(current) as Pending | Done;
    if (stored.f !== fingerprint) return { kind: 'mismatch' };
    return stored.s === 'done' ? { kind: 'completed', response: stored.r } : { kind: 'in_flight' };
  }

  async complete(
    tenant: string,
    scope: string,
    key: string,
    fingerprint: string,
    response: StoredResponse,
    retentionMs: number,
  ): Promise<void> {
    const done: Done = { s: 'done', f: fingerprint, r: response };
    // Waits for replicas: the stored response is what a retry is answered with.
    await replicatedWrite(this.redis, 'idempotency.complete', (p) =>
      p.set(this.key(tenant, scope, key), JSON.stringify(done), 'PX', retentionMs),
    );
  }

  async abandon(tenant: string, scope: string, key: string, token: string): Promise<void> {
    const recordKey = this.key(tenant, scope, key);
    const current = await storeCall(() => this.redis.get(recordKey));
    if (current === null) return;
    const stored = JSON.parse(current) as Pending | Done;
    if (stored.s === 'pending' && stored.t === token) {
      await storeCall(() => ABANDON.run(this.redis, [recordKey], [current]));
    }
  }

  private key(tenant: string, scope: string, key: string): string {
    return new IdempotencyKeyspace(this.keys.tenantPrefix(tenant)).record(scope, key);
  }
}
