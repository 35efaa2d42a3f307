import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../connection/redis-client.factory';
import { RedisKeyBuilder } from '../keys/redis-key-builder';
import { REDIS_CLIENT } from '../redis.constants';
import { storeCall } from '../store-errors';
import { TenantRegistry } from '../tenant-registry';
import { APPEND_AUDIT_RECORD, TRIM_AUDIT_STREAM } from './audit.lua';
import {
  AuditRepository,
  type AuditHead,
  type AuditRange,
  type AuditSeal,
  type StoredAuditEntry,
} from './audit.repository';

type RawEntry = [string, string[]];

@Injectable()
export class RedisAuditRepository extends AuditRepository {
  private readonly registry: TenantRegistry;

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    private readonly keys: RedisKeyBuilder,
  ) {
    super();
    this.registry = new TenantRegistry(redis, keys);
  }

  async append(tenant: string, record: string, out = ''): Promise<string> {
    const space = this.keys.audit(tenant);
    const id = await storeCall(() =>
      APPEND_AUDIT_RECORD.run(this.redis, [space.stream, space.head], [record, out]),
    );
    await this.registry.add(tenant);
    return String(id);
  }

  async range(
    tenant: string,
    range: AuditRange,
    count: number,
    order: 'asc' | 'desc',
  ): Promise<StoredAuditEntry[]> {
    const stream = this.keys.audit(tenant).stream;
    const raw = (await storeCall(() =>
      order === 'asc'
        ? this.redis.xrange(stream, range.start, range.end, 'COUNT', count)
        : this.redis.xrevrange(stream, range.end, range.start, 'COUNT', count),
    )) as RawEntry[];
    return raw.map(toEntry);
  }

  async head(tenant: string): Promise<AuditHead | null> {
    const [seq, hash, id] = await storeCall(() =>
      this.redis.hmget(this.keys.audit(tenant).head, 'seq', 'hash', 'id'),
    );
    if (seq === null || hash === null || id === null) return null;
    return { seq: Number(seq), hash, id };
  }

  async trim(tenant: string, beforeMs: number, limit: number): Promise<number> {
    const removed = await storeCall(() =>
      TRIM_AUDIT_STREAM.run(this.redis, [this.keys.audit(tenant).stream], [`${beforeMs}-0`, limit]),
    );
    return Number(removed);
  }

  async addSeal(tenant: string, seal: Omit<AuditSeal, 'id'>): Promise<void> {
    await storeCall(() =>
      // The entry id is the sealed sequence number, so seals are looked up by seq with XRANGE.
      this.redis.xadd(
        this.keys.audit(tenant).seals,
        `${seal.seq}-1`,
        'seq',
        seal.seq,
        'hash',
        seal.hash,
        'mac',
        seal.mac,
      ),
    );
  }

  async lastSeal(tenant: string): Promise<AuditSeal | null> {
    const raw = (await storeCall(() =>
      this.redis.xrevrange(this.keys.audit(tenant).seals, '+', '-', 'COUNT', 1),
    )) as RawEntry[];
    return raw.length === 0 ? null : toSeal(raw[0]);
  }

  async seals(tenant: string, fromSeq: number, toSeq: number, count: number): Promise<AuditSeal[]> {
    const raw = (await storeCall(() =>
      this.redis.xrange(
        this.keys.audit(tenant).seals,
        `${fromSeq}-0`,
        `${toSeq}-1`,
        'COUNT',
        count,
      ),
    )) as RawEntry[];
    return raw.map(toSeal);
  }

  tenants(): AsyncIterable<string[]> {
    return this.registry.list();
  }
}

function fields(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < pairs.length; i += 2) out[pairs[i]] = pairs[i + 1];
  return out;
}

function toEntry([id, pairs]: RawEntry): StoredAuditEntry {
  const f = fields(pairs);
  return {
    id,
    seq: Number(f.seq),
    ts: Number(f.ts),
    rec: f.rec ?? '',
    out: f.out ?? '',
    prev: f.prev ?? '',
    hash: f.hash ?? '',
  };
}

function toSeal([id, pairs]: RawEntry): AuditSeal {
  const f = fields(pairs);
  return { id, seq: Number(f.seq), hash: f.hash ?? '', mac: f.mac ?? '' };
}
