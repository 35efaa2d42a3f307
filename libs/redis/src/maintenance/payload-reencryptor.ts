import { Inject, Injectable } from '@nestjs/common';
import { auditArgs } from '../audit/audit-scope';
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

/** The walk's phases, in order: every stored payload lives in one of these record kinds. */
const PHASES = ['sessions', 'memory', 'cache'] as const;
type Phase = (typeof PHASES)[number];
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
 * Rewrites a tenant's stored payloads (session config/metadata, memory_data fields, cache data) with the
 * codec's current key, in bounded steps. SCAN-free: it walks the tenant's expiry indexes (every live
 * record is in one) in (expires_at, id) order. A write only pushes a record's expires_at forward, so
 * the walk never skips a record; it may see one twice, which is harmless. Each value is replaced
 * only if it still holds what was read (compare-and-set in Lua), so a concurrent write is never
 * undone, and versions do not change (the data did not). A cache entry whose TTL was shortened
 * during a walk can move behind the cursor; a second run picks it up.
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
    const cache = this.keys.cache(tenant);
    // Per phase: the index to walk, the hash holding a member's payloads, and which fields to take.
    const phase = {
      sessions: {
        index: sessions.expiry,
        hash: (member: string) => sessions.record(member),
        fields: () => ['config', 'metadata'],
      },
      memory: {
        index: memory.expiry,
        hash: (member: string) => memory.dataPrefix + member,
        fields: (record: Record<string, string>) => Object.keys(record),
      },
      cache: {
        index: cache.expiry,
        hash: (member: string) => cache.entry(member),
        fields: () => ['data'],
      },
    }[position.p];
    const index = phase.index;
    const start = await this.startRank(index, position);
    const page = await storeCall(() =>
      this.redis.zrange(index, String(start), String(start + limit - 1), 'WITHSCORES'),
    );

    const fields: { key: string; field: string; value: string }[] = [];
    const pipeline = this.redis.pipeline();
    const members: string[] = [];
    for (let i = 0; i < page.length; i += 2) {
      members.push(page[i]);
      pipeline.hgetall(phase.hash(page[i]));
    }
    const replies = members.length === 0 ? [] : ((await storeCall(() => pipeline.exec())) ?? []);
    replies.forEach(([error, hash], i) => {
      if (error) throw error;
      const key = phase.hash(members[i]);
      const record = hash as Record<string, string>;
      for (const field of phase.fields(record)) {
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
      const audit = auditArgs(this.keys, tenant);
      reencrypted = Number(
        await storeCall(() =>
          REPLACE_IF_UNCHANGED.run(this.redis, [...audit.keys, index], [audit.record, ...args]),
        ),
      );
      if (reencrypted > 0) audit.committed();
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
    const next = PHASES[PHASES.indexOf(position.p) + 1];
    const nextCursor = next === undefined ? null : encode({ p: next, s: -Infinity, m: '' });
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
      (PHASES as readonly unknown[]).includes(parsed.p) &&
      typeof parsed.m === 'string' &&
      parsed.m.length < 300
    ) {
      return {
        p: parsed.p as Phase,
        s: typeof parsed.s === 'number' ? parsed.s : -Infinity,
        m: parsed.m,
      };
    }
  } catch {
    // fall through
  }
  throw new InvalidReencryptionCursorError();
}
