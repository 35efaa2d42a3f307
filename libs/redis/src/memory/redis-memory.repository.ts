import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { auditArgs } from '../audit/audit-scope';
import { eventArgs, expiryEventArgs, type EventArgs } from '../events/event-args';
import type { RedisClient } from '../connection/redis-client.factory';
import type { MemoryType } from '../keys/memory-keyspace';
import { encodeKeyPart, RedisKeyBuilder } from '../keys/redis-key-builder';
import { jsonByteLength, PayloadCodec } from '../payload-codec';
import { REDIS_CLIENT } from '../redis.constants';
import { storeCall, StoreUnavailableError } from '../store-errors';
import { drainForRequest } from '../bounded-drain';
import { purgeResultOf, type PurgeResult } from '../purge-result';
import { purgeExpiredSessions } from '../sessions/session-purge';
import { applyMergePatch, isJsonObject } from './merge-patch';
import {
  CREATE_MEMORY,
  DELETE_MEMORY,
  GET_MEMORY,
  LIST_AGENT_MEMORY,
  PURGE_EXPIRED_MEMORY,
  QUERY_MEMORY,
  WRITE_MEMORY,
} from './memory.scripts';
import {
  MemoryRepository,
  type AgentMemoryQuery,
  type CreateMemoryOutcome,
  type CrossAgentQuery,
  type MemoryDeleteOutcome,
  type MemoryPage,
  type MemoryQueryResult,
  type MemoryReplacement,
  type MemoryWriteGuards,
  type MemoryWriteOutcome,
  type NewMemory,
  type StoredMemory,
} from './memory.repository';

/** How many expired records one script call may clean up before it hands back control. */
const PURGE_BATCH = 100;
const MAX_LIST_ATTEMPTS = 20;
/**
 * A merge of nested objects is a compare-and-set on the fields it touches; under contention it is
 * retried this many times (with jitter) before giving up. Merges of distinct top-level keys never
 * contend: they are plain HSET/HDEL inside one script.
 */
const MAX_MERGE_ATTEMPTS = 50;

type Pairs = string[];
type Field = [field: string, value: string, bytes: number];

/** Bytes one top-level member adds to memory_data's JSON text (`"key":value,`). */
function fieldBytes(key: string, value: unknown): number {
  return Buffer.byteLength(JSON.stringify(key), 'utf8') + jsonByteLength(value) + 2;
}

export function memoryDataBytes(data: Record<string, unknown>): number {
  return Object.entries(data).reduce((sum, [key, value]) => sum + fieldBytes(key, value), 0);
}

@Injectable()
export class RedisMemoryRepository extends MemoryRepository {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    private readonly keys: RedisKeyBuilder,
    private readonly codec: PayloadCodec,
  ) {
    super();
  }

  async create(
    tenant: string,
    memory: NewMemory,
    maxDataBytes: number,
  ): Promise<CreateMemoryOutcome> {
    const space = this.keys.memory(tenant);
    const bytes = memoryDataBytes(memory.data);
    if (bytes > maxDataBytes)
      throw new RangeError('memory_data exceeds the limit; check before create');
    const fields = this.encodeFields(Object.entries(memory.data));
    const audit = auditArgs(this.keys, tenant);
    const events = eventArgs(this.keys, tenant);
    const reply = (await storeCall(() =>
      CREATE_MEMORY.run(
        this.redis,
        [...audit.keys, ...events.keys, space.record(memory.agentId, memory.sessionId)],
        [
          audit.record,
          ...events.args,
          ...space.scriptLayout(),
          encodeKeyPart(memory.agentId),
          memory.sessionId,
          this.keys.sessions(tenant).record(memory.sessionId),
          memory.memoryId,
          memory.agentId,
          memory.memoryType,
          memory.createdBy,
          memory.ttlSeconds * 1000,
          bytes,
          fields.length,
          ...fields.flat(),
        ],
      ),
    )) as [string, ...(string | number)[]];
    switch (reply[0]) {
      case 'ok':
        audit.committed();
        return { kind: 'created', createdAt: Number(reply[1]), expiresAt: Number(reply[2]) };
      case 'session_not_found':
        return { kind: 'session_not_found' };
      case 'exists':
        return { kind: 'exists', memoryId: String(reply[1]) };
      default:
        throw new Error(`unexpected reply from ${CREATE_MEMORY.name}: ${String(reply[0])}`);
    }
  }

  async get(tenant: string, agentId: string, sessionId: string): Promise<StoredMemory | null> {
    const space = this.keys.memory(tenant);
    const reply = (await storeCall(() =>
      GET_MEMORY.run(
        this.redis,
        [space.record(agentId, sessionId), this.keys.sessions(tenant).record(sessionId)],
        [...space.scriptLayout(), encodeKeyPart(agentId), sessionId],
      ),
    )) as [Pairs, Pairs, string] | [];
    if (reply.length === 0) return null;
    return this.toMemory(reply[0], reply[1], reply[2]);
  }

  async replace(
    tenant: string,
    agentId: string,
    sessionId: string,
    changes: MemoryReplacement,
    guards: MemoryWriteGuards,
  ): Promise<MemoryWriteOutcome> {
    const sets = changes.data === undefined ? [] : this.encodeFields(Object.entries(changes.data));
    const outcome = await this.write(tenant, agentId, sessionId, guards, {
      replace: changes.data !== undefined,
      sets,
      deletes: [],
      cas: [],
      updatedBy: changes.updatedBy,
      memoryType: changes.memoryType,
    });
    // A replacement compares no field values, so it cannot conflict.
    if (outcome === 'conflict')
      throw new Error(`${WRITE_MEMORY.name} reported a conflict without CAS`);
    return outcome;
  }

  /**
   * RFC 7396 without a read-modify-write of the record: memory_data is a hash of top-level keys, so
   * `null` is an HDEL and a scalar or array is an HSET, applied in one script. Only a nested object
   * needs the current value of its key; that key's merge is computed here and written with a
   * compare-and-set on the key's stored value (retried on conflict), so no concurrent write is lost.
   */
  async mergePatch(
    tenant: string,
    agentId: string,
    sessionId: string,
    patch: Record<string, unknown>,
    updatedBy: string | undefined,
    guards: MemoryWriteGuards,
    memoryType?: MemoryType,
  ): Promise<MemoryWriteOutcome> {
    const deletes: string[] = [];
    const plain: [string, unknown][] = [];
    const nested: [string, Record<string, unknown>][] = [];
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) deletes.push(key);
      else if (isJsonObject(value)) nested.push([key, value]);
      else plain.push([key, value]);
    }
    const dataKey = this.keys.memory(tenant).data(agentId, sessionId);
    for (let attempt = 0; attempt < MAX_MERGE_ATTEMPTS; attempt++) {
      const current =
        nested.length === 0
          ? []
          : await storeCall(() => this.redis.hmget(dataKey, ...nested.map(([key]) => key)));
      const merged = nested.map(([key, value], i): [string, unknown] => [
        key,
        applyMergePatch(current[i] == null ? undefined : this.codec.decode(current[i]), value),
      ]);
      const outcome = await this.write(tenant, agentId, sessionId, guards, {
        replace: false,
        sets: this.encodeFields([...plain, ...merged]),
        deletes,
        cas: nested.map(([key], i) => [key, current[i] ?? null]),
        updatedBy,
        memoryType,
      });
      if (outcome !== 'conflict') return outcome;
      await sleep(Math.random() * Math.min(2 + attempt, 20));
    }
    return { kind: 'contended' };
  }

  async delete(
    tenant: string,
    agentId: string,
    sessionId: string,
    expectedVersion?: number,
  ): Promise<MemoryDeleteOutcome> {
    const space = this.keys.memory(tenant);
    const audit = auditArgs(this.keys, tenant);
    const events = eventArgs(this.keys, tenant);
    const reply = (await storeCall(() =>
      DELETE_MEMORY.run(
        this.redis,
        [...audit.keys, ...events.keys, space.record(agentId, sessionId)],
        [
          audit.record,
          ...events.args,
          ...space.scriptLayout(),
          encodeKeyPart(agentId),
          sessionId,
          expectedVersion === undefined ? '' : String(expectedVersion),
        ],
      ),
    )) as [string, number, number?];
    if (reply[0] === 'version_mismatch')
      return { kind: 'version_mismatch', currentVersion: reply[1] };
    if (reply[2] === 1) audit.committed();
    return { kind: 'deleted', deletedAt: reply[1], existed: reply[2] === 1 };
  }

  async listByAgent(tenant: string, agentId: string, query: AgentMemoryQuery): Promise<MemoryPage> {
    const space = this.keys.memory(tenant);
    const index = space.byAgent(agentId, query.memoryType);
    const args = [
      ...space.scriptLayout(),
      encodeKeyPart(agentId),
      query.createdFrom === undefined ? '-inf' : String(query.createdFrom),
      '+inf',
      query.offset,
      query.limit,
      query.after === undefined ? '' : String(query.after.createdAt),
      query.after?.sessionId ?? '',
      PURGE_BATCH,
      this.keys.sessions(tenant).recordPrefix,
    ];
    await this.purgeExpiredSessions(tenant);
    const expiry = expiryEventArgs(this.keys, tenant);
    for (let attempt = 0; attempt < MAX_LIST_ATTEMPTS; attempt++) {
      const reply = (await storeCall(() =>
        LIST_AGENT_MEMORY.run(this.redis, [...expiry.keys, index], [...expiry.args, ...args]),
      )) as unknown[];
      if (reply[0] === 'retry') {
        await this.purgeAll(tenant);
        continue;
      }
      const records: StoredMemory[] = [];
      for (let i = 3; i < reply.length; i += 5) {
        const record = this.toMemory(
          reply[i + 2] as Pairs,
          reply[i + 3] as Pairs,
          reply[i + 4] as string,
        );
        if (record) records.push(record);
      }
      return { totalCount: Number(reply[1]), hasMore: reply[2] === 1, records };
    }
    throw new StoreUnavailableError(
      'expired records keep arriving faster than a list purges',
      'busy',
    );
  }

  async query(tenant: string, query: CrossAgentQuery): Promise<MemoryQueryResult> {
    const space = this.keys.memory(tenant);
    const agents = [...new Set(query.agentIds)].map(encodeKeyPart);
    const sessions = [...new Set(query.sessionIds)];
    const args = [
      ...space.scriptLayout(),
      query.viewer === undefined ? '' : encodeKeyPart(query.viewer),
      query.memoryType ?? '',
      query.limit,
      PURGE_BATCH,
      query.after === undefined ? (query.offset ?? 0) : 0,
      query.after === undefined ? '' : String(query.after.createdAt),
      query.after === undefined ? '' : encodeKeyPart(query.after.agentId),
      query.after?.sessionId ?? '',
      this.keys.sessions(tenant).recordPrefix,
      query.requireSession === true ? '1' : '0',
      agents.length,
      ...agents,
      sessions.length,
      ...sessions,
    ];
    await this.purgeExpiredSessions(tenant);
    const expiry = expiryEventArgs(this.keys, tenant);
    for (let attempt = 0; attempt < MAX_LIST_ATTEMPTS; attempt++) {
      const reply = (await storeCall(() =>
        QUERY_MEMORY.run(this.redis, [...expiry.keys, space.expiry], [...expiry.args, ...args]),
      )) as unknown[];
      if (reply[0] === 'retry') {
        await this.purgeAll(tenant);
        continue;
      }
      if (reply[0] === 'session_not_found') {
        return { totalCount: 0, hasMore: false, records: [], sessionMissing: true };
      }
      if (reply[0] === 'too_broad') {
        return { totalCount: 0, hasMore: false, records: [], scopeTooBroad: Number(reply[1]) };
      }
      const records: StoredMemory[] = [];
      for (let i = 3; i < reply.length; i += 4) {
        const record = this.toMemory(
          reply[i + 1] as Pairs,
          reply[i + 2] as Pairs,
          reply[i + 3] as string,
        );
        if (record) records.push(record);
      }
      return { totalCount: Number(reply[1]), hasMore: reply[2] === 1, records };
    }
    throw new StoreUnavailableError(
      'expired records keep arriving faster than a query purges',
      'busy',
    );
  }

  async purgeExpired(tenant: string, limit: number): Promise<PurgeResult> {
    const space = this.keys.memory(tenant);
    const events: EventArgs = expiryEventArgs(this.keys, tenant);
    const reply = await storeCall(() =>
      PURGE_EXPIRED_MEMORY.run(
        this.redis,
        [...events.keys, space.expiry],
        [...events.args, ...space.scriptLayout(), limit],
      ),
    );
    return purgeResultOf(reply);
  }

  /**
   * Purges expired sessions, which cascades to their memory, so a list never shows memory of a
   * session that is gone. Nearly free when nothing has expired.
   */
  private purgeExpiredSessions(tenant: string): Promise<void> {
    const sessions = this.keys.sessions(tenant);
    const events = expiryEventArgs(this.keys, tenant);
    return drainForRequest(
      (limit) => purgeExpiredSessions(this.redis, sessions, limit, events),
      PURGE_BATCH,
    );
  }

  private purgeAll(tenant: string): Promise<void> {
    return drainForRequest((limit) => this.purgeExpired(tenant, limit), PURGE_BATCH);
  }

  private async write(
    tenant: string,
    agentId: string,
    sessionId: string,
    guards: MemoryWriteGuards,
    change: {
      replace: boolean;
      sets: Field[];
      deletes: string[];
      cas: [field: string, raw: string | null][];
      updatedBy?: string;
      memoryType?: MemoryType;
    },
  ): Promise<MemoryWriteOutcome | 'conflict'> {
    const space = this.keys.memory(tenant);
    const audit = auditArgs(this.keys, tenant);
    const events = eventArgs(this.keys, tenant, change.replace ? 'updated' : 'patched');
    const reply = (await storeCall(() =>
      WRITE_MEMORY.run(
        this.redis,
        [
          ...audit.keys,
          ...events.keys,
          space.record(agentId, sessionId),
          this.keys.sessions(tenant).record(sessionId),
        ],
        [
          audit.record,
          ...events.args,
          ...space.scriptLayout(),
          encodeKeyPart(agentId),
          sessionId,
          guards.expectedVersion === undefined ? '' : String(guards.expectedVersion),
          guards.maxDataBytes,
          change.updatedBy ?? '',
          change.memoryType ?? '',
          change.replace ? '1' : '0',
          change.sets.length,
          ...change.sets.flat(),
          change.deletes.length,
          ...change.deletes,
          change.cas.length,
          ...change.cas.flatMap(([field, raw]) => [field, raw === null ? '0' : '1', raw ?? '']),
        ],
      ),
    )) as [string, ...(string | number)[]];
    switch (reply[0]) {
      case 'ok':
        audit.committed();
        return {
          kind: 'updated',
          version: Number(reply[1]),
          updatedAt: Number(reply[2]),
          expiresAt: Number(reply[3]),
          memoryId: String(reply[4]),
        };
      case 'not_found':
        return { kind: 'not_found' };
      case 'version_mismatch':
        return { kind: 'version_mismatch', currentVersion: Number(reply[1]) };
      case 'too_large':
        return { kind: 'too_large', bytes: Number(reply[1]) };
      case 'conflict':
        return 'conflict';
      default:
        throw new Error(`unexpected reply from ${WRITE_MEMORY.name}: ${String(reply[0])}`);
    }
  }

  private encodeFields(entries: [string, unknown][]): Field[] {
    return entries.map(([key, value]) => [key, this.codec.encode(value), fieldBytes(key, value)]);
  }

  /** `sessionExpiresAt` is the session's expires_at as stored ('' when unknown). */
  private toMemory(
    recordPairs: Pairs,
    dataPairs: Pairs,
    sessionExpiresAt: string,
  ): StoredMemory | null {
    if (recordPairs.length === 0) return null;
    const raw: Record<string, string> = {};
    for (let i = 0; i < recordPairs.length; i += 2) raw[recordPairs[i]] = recordPairs[i + 1];
    if (raw.version === undefined) return null;
    const data: Record<string, unknown> = {};
    for (let i = 0; i < dataPairs.length; i += 2) {
      Object.defineProperty(data, dataPairs[i], {
        value: this.codec.decode(dataPairs[i + 1]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return {
      memoryId: raw.memory_id,
      agentId: raw.agent_id,
      sessionId: raw.session_id,
      memoryType: raw.memory_type,
      data,
      createdBy: raw.created_by,
      updatedBy: raw.updated_by,
      createdAt: Number(raw.created_at),
      updatedAt: Number(raw.updated_at),
      expiresAt:
        sessionExpiresAt === '' || sessionExpiresAt == null
          ? Number(raw.expires_at)
          : Math.min(Number(raw.expires_at), Number(sessionExpiresAt)),
      version: Number(raw.version),
    };
  }
}
