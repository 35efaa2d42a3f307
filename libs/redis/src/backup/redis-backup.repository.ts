import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../connection/redis-client.factory';
import { encodeKeyPart, RedisKeyBuilder } from '../keys/redis-key-builder';
import { MemoryKeyspace } from '../keys/memory-keyspace';
import { memoryDataBytes } from '../memory/redis-memory.repository';
import { jsonByteLength, PayloadCodec } from '../payload-codec';
import { REDIS_CLIENT } from '../redis.constants';
import { storeCall, storePipeline } from '../store-errors';
import { TenantRegistry } from '../tenant-registry';
import {
  BackupRepository,
  type BackupRecord,
  type CacheBackup,
  type ConflictPolicy,
  type ExportOptions,
  type ImportOutcome,
  type MemoryBackup,
  type PayloadEncoding,
  type SessionBackup,
} from './backup.repository';
import { InvalidBackupRecordError } from './backup-record';
import { IMPORT_CACHE, IMPORT_MEMORY, IMPORT_SESSION } from './backup.scripts';
import { subjectTag } from '../subjects/redis-subject.repository';

type Hash = Record<string, string>;

/** Walks a sorted set by rank, `size` members per round trip. */
export async function* rankBatches(
  redis: RedisClient,
  key: string,
  size: number,
  from = 0,
): AsyncGenerator<string[]> {
  for (let start = from; ; start += size) {
    const members = await storeCall(() =>
      redis.zrange(key, String(start), String(start + size - 1)),
    );
    if (members.length > 0) yield members;
    if (members.length < size) return;
  }
}

async function* prepend<T>(first: T, rest: AsyncIterable<T> | T[]): AsyncGenerator<T> {
  yield first;
  yield* rest;
}

@Injectable()
export class RedisBackupRepository extends BackupRepository {
  private readonly registry: TenantRegistry;

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    private readonly keys: RedisKeyBuilder,
    private readonly codec: PayloadCodec,
  ) {
    super();
    this.registry = new TenantRegistry(redis, keys);
  }

  /**
   * Not a point-in-time snapshot: records written while the walk runs may or may not be in it (a
   * rank walk can also repeat or miss a record that moves meanwhile); use Redis persistence for an
   * exact snapshot. Records that expire between the index read and the record read are left out.
   */
  async *export(tenant: string, options: ExportOptions): AsyncGenerator<BackupRecord[]> {
    const sessions = this.keys.sessions(tenant);
    for await (const ids of rankBatches(this.redis, sessions.all, options.batchSize)) {
      const replies = await this.read(ids.map((id) => [sessions.record(id)]));
      const out: BackupRecord[] = [];
      ids.forEach((id, i) => {
        const [[raw], ttl] = replies[i];
        if (raw.version !== undefined && ttl > 0) out.push(this.session(id, raw, ttl, options));
      });
      if (out.length > 0) yield out;
    }

    const memory = this.keys.memory(tenant);
    for await (const members of rankBatches(this.redis, memory.expiry, options.batchSize)) {
      const replies = await this.read(
        members.map((member) => [memory.recordPrefix + member, memory.dataPrefix + member]),
      );
      const out: BackupRecord[] = [];
      members.forEach((member, i) => {
        const [[raw, data], ttl] = replies[i];
        if (raw.version !== undefined && ttl > 0) {
          out.push(this.memory(MemoryKeyspace.parseMember(member), raw, data, ttl, options));
        }
      });
      if (out.length > 0) yield out;
    }

    const cache = this.keys.cache(tenant);
    for await (const cacheKeys of rankBatches(this.redis, cache.index, options.batchSize)) {
      const replies = await this.read(cacheKeys.map((key) => [cache.entry(key)]));
      const out: BackupRecord[] = [];
      cacheKeys.forEach((key, i) => {
        const [[raw], ttl] = replies[i];
        if (raw.expires_at !== undefined && ttl > 0) out.push(this.cache(key, raw, ttl, options));
      });
      if (out.length > 0) yield out;
    }
  }

  async *exportSubject(
    tenant: string,
    userId: string,
    options: ExportOptions,
  ): AsyncGenerator<BackupRecord[]> {
    const sessions = this.keys.sessions(tenant);
    for await (const ids of rankBatches(
      this.redis,
      sessions.byCreator(userId),
      options.batchSize,
    )) {
      const replies = await this.read(ids.map((id) => [sessions.record(id)]));
      const out: BackupRecord[] = [];
      const live: string[] = [];
      ids.forEach((id, i) => {
        const [[raw], ttl] = replies[i];
        if (raw.version !== undefined && ttl > 0 && raw.created_by === userId) {
          out.push(this.session(id, raw, ttl, options));
          live.push(id);
        }
      });
      if (out.length > 0) yield out;
      yield* this.sessionsMemory(tenant, live, options);
    }

    const tag = subjectTag(userId);
    if (tag === undefined) return;
    const cache = this.keys.cache(tenant);
    for await (const cacheKeys of rankBatches(this.redis, cache.tag(tag), options.batchSize)) {
      const replies = await this.read(cacheKeys.map((key) => [cache.entry(key)]));
      const out: BackupRecord[] = [];
      cacheKeys.forEach((key, i) => {
        const [[raw], ttl] = replies[i];
        const entry = raw.expires_at === undefined ? undefined : this.cache(key, raw, ttl, options);
        // The tag index may still name an entry that was replaced without the tag.
        if (entry && ttl > 0 && entry.tags.includes(tag)) out.push(entry);
      });
      if (out.length > 0) yield out;
    }
  }

  /**
   * The agent memory of some sessions, `options.batchSize` records per round trip. The first page
   * of every session's agent index comes in one pipeline; a session with more agents is walked on.
   */
  private async *sessionsMemory(
    tenant: string,
    sessionIds: string[],
    options: ExportOptions,
  ): AsyncGenerator<BackupRecord[]> {
    if (sessionIds.length === 0) return;
    const memory = this.keys.memory(tenant);
    const size = options.batchSize;
    const pipeline = this.redis.pipeline();
    for (const id of sessionIds) pipeline.zrange(memory.bySession(id), '0', String(size - 1));
    const pages = (await storePipeline(pipeline)) as string[][];
    let members: string[] = [];
    const take = async (): Promise<BackupRecord[]> => {
      const chunk = members;
      members = [];
      const replies = await this.read(
        chunk.map((member) => [memory.recordPrefix + member, memory.dataPrefix + member]),
      );
      const out: BackupRecord[] = [];
      chunk.forEach((member, i) => {
        const [[raw, data], ttl] = replies[i];
        if (raw.version !== undefined && ttl > 0) {
          out.push(this.memory(MemoryKeyspace.parseMember(member), raw, data, ttl, options));
        }
      });
      return out;
    };
    for (const [i, id] of sessionIds.entries()) {
      // A session with more agents than one page is walked on from where its first page ended.
      const rest =
        pages[i].length < size ? [] : rankBatches(this.redis, memory.bySession(id), size, size);
      for await (const agents of prepend(pages[i], rest)) {
        members.push(...agents.map((agent) => `${agent}:${id}`));
        if (members.length >= size) {
          const out = await take();
          if (out.length > 0) yield out;
        }
      }
    }
    if (members.length > 0) {
      const out = await take();
      if (out.length > 0) yield out;
    }
  }

  /** One pipeline: HGETALL of each key of each record, then PTTL of its first key. */
  private async read(records: string[][]): Promise<[Hash[], number][]> {
    const pipeline = this.redis.pipeline();
    for (const keys of records) {
      for (const key of keys) pipeline.hgetall(key);
      pipeline.pttl(keys[0]);
    }
    const results = await storePipeline(pipeline);
    let at = 0;
    return records.map((keys) => {
      const hashes = keys.map(() => results[at++] as Hash);
      return [hashes, Number(results[at++])];
    });
  }

  private payload(stored: string, options: ExportOptions): unknown {
    return options.decrypt ? this.codec.decode(stored) : stored;
  }

  private encoding(options: ExportOptions): PayloadEncoding {
    return options.decrypt ? 'json' : 'stored';
  }

  private session(id: string, raw: Hash, ttl: number, options: ExportOptions): SessionBackup {
    return {
      type: 'session',
      session_id: id,
      status: raw.status,
      created_by: raw.created_by,
      created_at: Number(raw.created_at),
      updated_at: Number(raw.updated_at),
      status_updated_at: Number(raw.status_updated_at),
      status_updated_by: raw.status_updated_by,
      expires_at: Number(raw.expires_at),
      ttl_ms: Number(raw.ttl_ms),
      ttl_remaining_ms: ttl,
      version: Number(raw.version),
      payload_encoding: this.encoding(options),
      config: this.payload(raw.config, options),
      metadata: this.payload(raw.metadata, options),
    };
  }

  private memory(
    pair: { agentId: string; sessionId: string },
    raw: Hash,
    data: Hash,
    ttl: number,
    options: ExportOptions,
  ): MemoryBackup {
    const values: Record<string, unknown> = {};
    for (const [field, stored] of Object.entries(data)) {
      values[field] = this.payload(stored, options);
    }
    return {
      type: 'memory',
      agent_id: pair.agentId,
      session_id: pair.sessionId,
      memory_id: raw.memory_id,
      memory_type: raw.memory_type,
      created_by: raw.created_by,
      updated_by: raw.updated_by,
      created_at: Number(raw.created_at),
      updated_at: Number(raw.updated_at),
      expires_at: Number(raw.expires_at),
      ttl_ms: Number(raw.ttl_ms),
      ttl_remaining_ms: ttl,
      version: Number(raw.version),
      payload_encoding: this.encoding(options),
      data: values,
    };
  }

  private cache(key: string, raw: Hash, ttl: number, options: ExportOptions): CacheBackup {
    return {
      type: 'cache',
      cache_key: key,
      cached_at: Number(raw.cached_at),
      updated_at: Number(raw.updated_at),
      expires_at: Number(raw.expires_at),
      ttl_remaining_ms: ttl,
      tags: (raw.tags ?? '').split(',').filter((tag) => tag !== ''),
      payload_encoding: this.encoding(options),
      data: this.payload(raw.data, options),
    };
  }

  async import(
    tenant: string,
    record: BackupRecord,
    conflict: ConflictPolicy,
  ): Promise<ImportOutcome> {
    // Registered first, like every write: the sweepers must know the tenant holds data.
    await this.registry.add(tenant);
    let reply: unknown;
    switch (record.type) {
      case 'session':
        reply = await this.importSession(tenant, record, conflict);
        break;
      case 'memory':
        reply = await this.importMemory(tenant, record, conflict);
        break;
      case 'cache':
        reply = await this.importCache(tenant, record, conflict);
        break;
    }
    const [outcome] = reply as [string];
    switch (outcome) {
      case 'ok':
        return { kind: 'imported' };
      case 'exists':
      case 'expired':
      case 'session_not_found':
        return { kind: outcome };
      default:
        throw new Error(`unexpected reply from a backup import script: ${String(outcome)}`);
    }
  }

  /**
   * The stored form is written as it is, after checking that this server can read it (its keys
   * decrypt it); decoded JSON is encoded with the current codec (and key). Sizes are recomputed
   * from the decoded value, never trusted from the file.
   */
  private stored(value: unknown, encoding: PayloadEncoding): { stored: string; decoded: unknown } {
    if (encoding === 'json') return { stored: this.codec.encode(value), decoded: value };
    const stored = value as string;
    return { stored, decoded: this.codec.decode(stored) };
  }

  private importSession(tenant: string, s: SessionBackup, conflict: ConflictPolicy) {
    const space = this.keys.sessions(tenant);
    const config = this.stored(s.config, s.payload_encoding);
    const metadata = this.stored(s.metadata, s.payload_encoding);
    for (const [field, value] of [
      ['config', config.decoded],
      ['metadata', metadata.decoded],
    ]) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new InvalidBackupRecordError(`${String(field)} must decode to a JSON object`);
      }
    }
    // prettier-ignore
    const fields: (string | number)[] = [
      'config', config.stored,
      'metadata', metadata.stored,
      'status', s.status,
      'created_by', s.created_by,
      'created_at', s.created_at,
      'updated_at', s.updated_at,
      'status_updated_at', s.status_updated_at,
      'status_updated_by', s.status_updated_by,
      'expires_at', s.expires_at,
      'ttl_ms', s.ttl_ms,
      'version', s.version,
      'config_bytes', jsonByteLength(config.decoded),
      'metadata_bytes', jsonByteLength(metadata.decoded),
    ];
    return storeCall(() =>
      IMPORT_SESSION.run(
        this.redis,
        [space.record(s.session_id)],
        [
          ...space.scriptLayout(),
          s.session_id,
          encodeKeyPart(s.created_by),
          conflict,
          s.expires_at,
          ...fields,
        ],
      ),
    );
  }

  private importMemory(tenant: string, m: MemoryBackup, conflict: ConflictPolicy) {
    const space = this.keys.memory(tenant);
    const decoded: Record<string, unknown> = {};
    const triples: (string | number)[] = [];
    for (const [field, value] of Object.entries(m.data)) {
      const payload = this.stored(value, m.payload_encoding);
      decoded[field] = payload.decoded;
      triples.push(field, payload.stored, memoryDataBytes({ [field]: payload.decoded }));
    }
    // prettier-ignore
    const fields: (string | number)[] = [
      'memory_id', m.memory_id,
      'agent_id', m.agent_id,
      'session_id', m.session_id,
      'memory_type', m.memory_type,
      'created_by', m.created_by,
      'updated_by', m.updated_by,
      'created_at', m.created_at,
      'updated_at', m.updated_at,
      'expires_at', m.expires_at,
      'ttl_ms', m.ttl_ms,
      'version', m.version,
      'data_bytes', memoryDataBytes(decoded),
    ];
    return storeCall(() =>
      IMPORT_MEMORY.run(
        this.redis,
        [space.record(m.agent_id, m.session_id)],
        [
          ...space.scriptLayout(),
          encodeKeyPart(m.agent_id),
          m.session_id,
          this.keys.sessions(tenant).record(m.session_id),
          conflict,
          m.expires_at,
          m.memory_type,
          m.created_at,
          fields.length / 2,
          ...fields,
          triples.length / 3,
          ...triples,
        ],
      ),
    );
  }

  private importCache(tenant: string, c: CacheBackup, conflict: ConflictPolicy) {
    const space = this.keys.cache(tenant);
    const data = this.stored(c.data, c.payload_encoding);
    for (const tag of c.tags) space.tag(tag); // refuses a tag that is not a valid key part
    return storeCall(() =>
      IMPORT_CACHE.run(
        this.redis,
        [space.entry(c.cache_key)],
        [
          ...space.scriptLayout(),
          c.cache_key,
          conflict,
          c.expires_at,
          data.stored,
          c.cached_at,
          c.updated_at,
          [...new Set(c.tags)].join(','),
        ],
      ),
    );
  }
}
