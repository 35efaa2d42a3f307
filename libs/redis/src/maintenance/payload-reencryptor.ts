import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../connection/redis-client.factory';
import { RedisKeyBuilder } from '../keys/redis-key-builder';
import { REPLACE_IF_UNCHANGED } from '../memory/memory.scripts';
import { PayloadCodec } from '../payload-codec';
import { REDIS_CLIENT } from '../redis.constants';
import { storeCall } from '../store-errors';

export interface ReencryptionStep {
  scanned: number;
  reencrypted: number;
  /** Opaque; null when the whole tenant has been walked. */
  nextCursor: string | null;
}

type Phase = 'sessions' | 'memory';
interface Position {
  p: Phase;
  s: number;
  m: string;
}

export class InvalidReencryptionCursorError extends Error {
  constructor() {
    super('cursor is not one returned by re-encryption');
    this.name = 'InvalidReencryptionCursorError';
  }
}

/**
 * Rewrites a tenant's stored payloads (session config/metadata, memory_data fields) with the
 * codec's current key, in bounded steps. SCAN-free: it walks the tenant's expiry indexes (every live
 * record is in one) in (expires_at, id) order. A write only pushes a record's expires_at forward, so
 * the walk never skips a record; it may see one twice, which is harmless. Each value is replaced
 * only if it still holds what was read (compare-and-set in Lua), so a concurrent write is never
 * undone, and versions do not change (the data did not).
 */
@Injectable()
export class PayloadReencryptor {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    private readonly keys: RedisKeyBuilder,
    private readonly codec: PayloadCodec,
  ) {}

  async step(tenant: string, cursor: string | undefined, limit: number): Promise<ReencryptionStep> {
    let position =
      cursor === undefined ? { p: 'sessions' as Phase, s: -Infinity, m: '' } : decode(cursor);
    const sessions = this.keys.sessions(tenant);
    const memory = this.keys.memory(tenant);
    const index = position.p === 'sessions' ? sessions.expiry : memory.expiry;
    const start = await this.startRank(index, position);
    const page = await storeCall(() =>
      this.redis.zrange(index, String(start), String(start + limit - 1), 'WITHSCORES'),
    );

    const fields: { key: string; field: string; value: string }[] = [];
    const pipeline = this.redis.pipeline();
    const members: string[] = [];
    for (let i = 0; i < page.length; i += 2) {
      members.push(page[i]);
      if (position.p === 'sessions') pipeline.hgetall(sessions.record(page[i]));
      else pipeline.hgetall(memory.dataPrefix + page[i]);
    }
    const replies = members.length === 0 ? [] : ((await storeCall(() => pipeline.exec())) ?? []);
    replies.forEach(([error, hash], i) => {
      if (error) throw error;
      const key =
        position.p === 'sessions' ? sessions.record(members[i]) : memory.dataPrefix + members[i];
      const record = hash as Record<string, string>;
      const names = position.p === 'sessions' ? ['config', 'metadata'] : Object.keys(record);
      for (const field of names) {
        const value = record[field];
        if (value !== undefined && !this.codec.isCurrent(value)) fields.push({ key, field, value });
      }
    });

    let reencrypted = 0;
    if (fields.length > 0) {
      const args: (string | number)[] = [fields.length];
      for (const { key, field, value } of fields) {
        args.push(key, field, value, this.codec.encode(this.codec.decode(value)));
      }
      reencrypted = Number(
        await storeCall(() => REPLACE_IF_UNCHANGED.run(this.redis, [index], args)),
      );
    }

    const scanned = members.length;
    if (scanned === limit) {
      position = {
        p: position.p,
        s: Number(page[page.length - 1]),
        m: members[members.length - 1],
      };
      return { scanned, reencrypted, nextCursor: encode(position) };
    }
    const nextCursor =
      position.p === 'sessions' ? encode({ p: 'memory', s: -Infinity, m: '' }) : null;
    return { scanned, reencrypted, nextCursor };
  }

  private async startRank(index: string, position: Position): Promise<number> {
    if (position.m === '') return 0;
    const rank = await storeCall(() => this.redis.zrank(index, position.m));
    if (rank !== null) return rank + 1;
    // The cursor record is gone: restart at its score (may revisit a few; never skips).
    return storeCall(() => this.redis.zcount(index, '-inf', `(${position.s}`));
  }
}

function encode(position: Position): string {
  return Buffer.from(
    JSON.stringify({ ...position, s: Number.isFinite(position.s) ? position.s : null }),
  ).toString('base64url');
}

function decode(cursor: string): Position {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      p?: unknown;
      s?: unknown;
      m?: unknown;
    };
    if (
      (parsed.p === 'sessions' || parsed.p === 'memory') &&
      typeof parsed.m === 'string' &&
      parsed.m.length < 300
    ) {
      return { p: parsed.p, s: typeof parsed.s === 'number' ? parsed.s : -Infinity, m: parsed.m };
    }
  } catch {
    // fall through
  }
  throw new InvalidReencryptionCursorError();
}
