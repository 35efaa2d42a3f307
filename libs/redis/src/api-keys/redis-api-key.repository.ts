import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../connection/redis-client.factory';
import { RedisKeyBuilder } from '../keys/redis-key-builder';
import { LuaScript } from '../lua-script';
import { REDIS_CLIENT } from '../redis.constants';
import { replicatedWrite } from '../replicated-write';
import { storeCall, storePipeline } from '../store-errors';
import {
  ApiKeyRepository,
  type CreateApiKeyOutcome,
  type NewApiKey,
  type StoredApiKey,
} from './api-key.repository';

/**
 * KEYS[1]=record, KEYS[2]=index. ARGV: record prefix, id, max keys, expires_at ms ('' = never),
 * then field/value pairs. Drops index entries of keys that expired (bounded by max keys), checks
 * the per-tenant maximum, writes the record and its index entry together. Returns created_at or
 * {'limit', n}.
 */
const CREATE_API_KEY = new LuaScript(
  'apikey.create',
  `
local prefix, id, max_keys, expires_at = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
for _, other in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if redis.call('EXISTS', prefix .. other) == 0 then redis.call('ZREM', KEYS[2], other) end
end
if redis.call('ZCARD', KEYS[2]) >= max_keys then return {'limit', max_keys} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local fields = { 'created_at', now }
for i = 5, #ARGV do table.insert(fields, ARGV[i]) end
redis.call('HSET', KEYS[1], unpack(fields))
if expires_at ~= '' then redis.call('PEXPIREAT', KEYS[1], expires_at) end
redis.call('ZADD', KEYS[2], now, id)
return {'ok', now}
`,
);

@Injectable()
export class RedisApiKeyRepository extends ApiKeyRepository {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    private readonly keys: RedisKeyBuilder,
  ) {
    super();
  }

  async create(tenant: string, key: NewApiKey, maxKeys: number): Promise<CreateApiKeyOutcome> {
    const space = this.keys.apiKeys(tenant);
    const reply = (await storeCall(() =>
      CREATE_API_KEY.run(
        this.redis,
        [space.record(key.id), space.index],
        [
          space.recordPrefix,
          key.id,
          maxKeys,
          key.expiresAt === undefined ? '' : String(key.expiresAt),
          'name',
          key.name,
          'secret_hash',
          key.secretHash,
          'roles',
          JSON.stringify(key.roles),
          'scopes',
          key.scopes === undefined ? '' : JSON.stringify(key.scopes),
          'created_by',
          key.createdBy,
          'expires_at',
          key.expiresAt === undefined ? '' : String(key.expiresAt),
        ],
      ),
    )) as [string, number];
    return reply[0] === 'limit'
      ? { kind: 'limit_reached', limit: Number(reply[1]) }
      : { kind: 'created', createdAt: Number(reply[1]) };
  }

  async get(tenant: string, id: string): Promise<StoredApiKey | null> {
    const raw = await storeCall(() => this.redis.hgetall(this.keys.apiKeys(tenant).record(id)));
    return toApiKey(id, raw, Date.now());
  }

  async list(tenant: string): Promise<StoredApiKey[]> {
    const space = this.keys.apiKeys(tenant);
    const ids = await storeCall(() => this.redis.zrange(space.index, '0', '-1'));
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(space.record(id));
    const replies = await storePipeline(pipeline);
    const now = Date.now();
    return ids
      .map((id, i) => toApiKey(id, (replies[i] ?? {}) as Record<string, string>, now))
      .filter((key): key is StoredApiKey => key !== null);
  }

  async revoke(tenant: string, id: string): Promise<boolean> {
    const space = this.keys.apiKeys(tenant);
    // Waits for replicas: a revocation lost in a failover would bring the key back to life.
    const [deleted] = await replicatedWrite(
      this.redis,
      'api-key.revoke',
      (p) => p.del(space.record(id)).zrem(space.index, id),
      { atomic: true },
    );
    return Number(deleted ?? 0) === 1;
  }
}

function toApiKey(id: string, raw: Record<string, string>, now: number): StoredApiKey | null {
  if (raw.secret_hash === undefined) return null;
  const expiresAt = raw.expires_at ? Number(raw.expires_at) : undefined;
  // Redis expires the record at expires_at; until its expiry cycle runs, it is already gone here.
  if (expiresAt !== undefined && expiresAt <= now) return null;
  return {
    id,
    name: raw.name,
    secretHash: raw.secret_hash,
    roles: JSON.parse(raw.roles) as string[],
    scopes: raw.scopes ? (JSON.parse(raw.scopes) as string[]) : undefined,
    createdBy: raw.created_by,
    createdAt: Number(raw.created_at),
    expiresAt,
  };
}
