import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { auditArgs } from '../audit/audit-scope';
import { eventArgs, expiryEventArgs } from '../events/event-args';
import type { RedisClient } from '../connection/redis-client.factory';
import { encodeKeyPart, RedisKeyBuilder } from '../keys/redis-key-builder';
import { jsonByteLength, PayloadCodec } from '../payload-codec';
import { REDIS_CLIENT } from '../redis.constants';
import { storeCall, storePipeline, StoreUnavailableError } from '../store-errors';
import { drainForRequest } from '../bounded-drain';
import type { PurgeResult } from '../purge-result';
import { readPreferringReplica } from '../connection/read-replicas';
import { TenantRegistry } from '../tenant-registry';
import { applyMergePatch } from '../memory/merge-patch';
import { purgeExpiredSessions } from './session-purge';
import { deepFreeze, SESSION_L1, sessionKeepUntil, type SessionL1 } from './session-l1';
import { CREATE_SESSIONS, DELETE_SESSIONS, LIST_SESSIONS, UPDATE_SESSION } from './session.scripts';
import {
  SessionExistsError,
  SessionRepository,
  type DeleteOutcome,
  type NewSession,
  type SessionChanges,
  type SessionListQuery,
  type SessionMergePatch,
  type SessionPage,
  type StoredSession,
  type UpdateOutcome,
  type WriteGuards,
} from './session.repository';

/** How many expired sessions one script call may clean up before it hands back control. */
const PURGE_BATCH = 100;
/** A list retries after purging at most this many times; beyond it Redis is being flooded. */
const MAX_LIST_ATTEMPTS = 20;
/** Merge patches retry a lost compare-and-set this many times (with jitter), then give up. */
const MAX_MERGE_ATTEMPTS = 50;

type Cas = { raw: string | null } | undefined;

type RawRecord = string[];

@Injectable()
export class RedisSessionRepository extends SessionRepository {
  private readonly registry: TenantRegistry;

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    private readonly keys: RedisKeyBuilder,
    private readonly codec: PayloadCodec,
    @Optional() @Inject(SESSION_L1) private readonly l1?: SessionL1,
  ) {
    super();
    this.registry = new TenantRegistry(redis, keys);
  }

  async create(tenant: string, sessions: NewSession[]): Promise<number> {
    const space = this.keys.sessions(tenant);
    const args: (string | number)[] = [sessions.length];
    for (const session of sessions) {
      args.push(
        session.id,
        encodeKeyPart(session.createdBy),
        session.createdBy,
        session.status,
        this.codec.encode(session.config),
        this.codec.encode(session.metadata),
        session.ttlSeconds * 1000,
        jsonByteLength(session.config),
        jsonByteLength(session.metadata),
      );
    }
    const audit = auditArgs(this.keys, tenant);
    const events = eventArgs(this.keys, tenant);
    const reply = (await storeCall(() =>
      CREATE_SESSIONS.run(
        this.redis,
        [...audit.keys, ...events.keys, space.all, this.registry.markerOf(tenant)],
        [audit.record, ...events.args, ...space.scriptLayout(), ...args],
      ),
    )) as [string, number | string, number?];
    if (reply[0] === 'exists') throw new SessionExistsError(String(reply[1]));
    audit.committed();
    // After the write, so that a concurrent departure of the tenant sees it (TenantRegistry).
    await this.registry.add(tenant, reply[2] === 1);
    return Number(reply[1]);
  }

  async get(tenant: string, sessionId: string): Promise<StoredSession | null> {
    const space = this.keys.sessions(tenant);
    // Only GET routes read this (updates use CAS in the script): a replica may serve it.
    const raw = await storeCall(() =>
      readPreferringReplica(this.redis, (client) => client.hgetall(space.record(sessionId))),
    );
    return this.toSession(sessionId, raw);
  }

  getRecent(tenant: string, sessionId: string): Promise<StoredSession | null> {
    const l1 = this.l1;
    if (l1 === undefined) return this.get(tenant, sessionId);
    const key = this.keys.sessions(tenant).record(sessionId);
    return l1.read(
      key,
      async (reader) => {
        const session = this.toSession(sessionId, await storeCall(() => reader.hgetall(key)));
        return session && deepFreeze(session);
      },
      () => this.get(tenant, sessionId),
      sessionKeepUntil,
    );
  }

  async getMany(tenant: string, sessionIds: string[]): Promise<(StoredSession | null)[]> {
    if (sessionIds.length === 0) return [];
    const space = this.keys.sessions(tenant);
    const pipeline = this.redis.pipeline();
    for (const id of sessionIds) pipeline.hgetall(space.record(id));
    const replies = await storePipeline(pipeline);
    return sessionIds.map((id, i) =>
      this.toSession(id, (replies[i] ?? {}) as Record<string, string>),
    );
  }

  async update(
    tenant: string,
    sessionId: string,
    changes: SessionChanges,
    guards: WriteGuards,
  ): Promise<UpdateOutcome> {
    const outcome = await this.write(tenant, sessionId, changes, guards, 'updated');
    if (outcome === 'conflict') throw new Error(`${UPDATE_SESSION.name} conflicted without CAS`);
    return outcome;
  }

  async mergePatch(
    tenant: string,
    sessionId: string,
    patch: SessionMergePatch,
    guards: WriteGuards,
  ): Promise<UpdateOutcome> {
    const record = this.keys.sessions(tenant).record(sessionId);
    for (let attempt = 0; attempt < MAX_MERGE_ATTEMPTS; attempt++) {
      const [config, metadata] = await storeCall(() =>
        this.redis.hmget(record, 'config', 'metadata'),
      );
      if (config === null || metadata === null) return { kind: 'not_found' };
      const merged = (raw: string, part: Record<string, unknown> | undefined) =>
        part === undefined
          ? undefined
          : (applyMergePatch(this.codec.decode(raw), part) as Record<string, unknown>);
      const outcome = await this.write(
        tenant,
        sessionId,
        {
          config: merged(config, patch.config),
          metadata: merged(metadata, patch.metadata),
          status: patch.status,
          statusUpdatedBy: patch.statusUpdatedBy,
        },
        guards,
        'patched',
        patch.config === undefined ? undefined : { raw: config },
        patch.metadata === undefined ? undefined : { raw: metadata },
      );
      if (outcome !== 'conflict') return outcome;
      await sleep(Math.random() * Math.min(2 + attempt, 20));
    }
    return { kind: 'contended' };
  }

  private async write(
    tenant: string,
    sessionId: string,
    changes: SessionChanges,
    guards: WriteGuards,
    change: 'updated' | 'patched',
    configCas?: Cas,
    metadataCas?: Cas,
  ): Promise<UpdateOutcome | 'conflict'> {
    const space = this.keys.sessions(tenant);
    const casArgs = (cas: Cas) => (cas === undefined ? ['0', ''] : ['1', cas.raw ?? '']);
    const payloadArgs = (value: Record<string, unknown> | undefined) =>
      value === undefined ? ['0', '', 0] : ['1', this.codec.encode(value), jsonByteLength(value)];
    const audit = auditArgs(this.keys, tenant);
    const events = eventArgs(this.keys, tenant, change);
    const reply = (await forgetAfter(this.l1, [space.record(sessionId)], () =>
      UPDATE_SESSION.run(
        this.redis,
        [...audit.keys, ...events.keys, space.record(sessionId)],
        [
          audit.record,
          ...events.args,
          ...space.scriptLayout(),
          sessionId,
          guards.expectedVersion === undefined ? '' : String(guards.expectedVersion),
          guards.maxPayloadBytes,
          ...payloadArgs(changes.config),
          ...payloadArgs(changes.metadata),
          changes.status ?? '',
          changes.statusUpdatedBy ?? '',
          ...casArgs(configCas),
          ...casArgs(metadataCas),
        ],
      ),
    )) as [string, ...(number | string)[]];
    switch (reply[0]) {
      case 'ok':
        audit.committed();
        return {
          kind: 'updated',
          version: Number(reply[1]),
          updatedAt: Number(reply[2]),
          expiresAt: Number(reply[3]),
          status: String(reply[4]),
          previousStatus: String(reply[5]),
          createdAt: Number(reply[6]),
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
        throw new Error(`unexpected reply from ${UPDATE_SESSION.name}: ${String(reply[0])}`);
    }
  }

  async delete(
    tenant: string,
    sessionIds: string[],
    expectedVersion?: number,
  ): Promise<DeleteOutcome> {
    const space = this.keys.sessions(tenant);
    const audit = auditArgs(this.keys, tenant);
    const events = eventArgs(this.keys, tenant);
    const reply = (await forgetAfter(
      this.l1,
      sessionIds.map((id) => space.record(id)),
      () =>
        DELETE_SESSIONS.run(
          this.redis,
          [...audit.keys, ...events.keys, space.all],
          [
            audit.record,
            ...events.args,
            ...space.scriptLayout(),
            expectedVersion === undefined ? '' : String(expectedVersion),
            ...sessionIds,
          ],
        ),
    )) as [string, number, number, ...(number | string)[]];
    if (reply[0] === 'version_mismatch')
      return { kind: 'version_mismatch', currentVersion: reply[1] };
    const flags = reply.slice(3, 3 + sessionIds.length);
    const before = reply.slice(3 + sessionIds.length);
    if (flags.includes(1) || reply[2] > 0) audit.committed();
    return {
      kind: 'deleted',
      deletedAt: reply[1],
      memoryRecordsDeleted: reply[2],
      deleted: sessionIds.filter((_, i) => flags[i] === 1),
      missing: sessionIds.filter((_, i) => flags[i] !== 1),
      ended: flags.flatMap((flag, i) =>
        flag === 1 ? [{ status: String(before[2 * i]), createdAt: Number(before[2 * i + 1]) }] : [],
      ),
    };
  }

  async list(tenant: string, query: SessionListQuery): Promise<SessionPage> {
    const space = this.keys.sessions(tenant);
    const index = space.indexFor({ createdBy: query.createdBy, status: query.status });
    const args = [
      ...space.scriptLayout(),
      query.createdFrom === undefined ? '-inf' : String(query.createdFrom),
      query.createdUntil === undefined ? '+inf' : String(query.createdUntil),
      query.order,
      query.offset,
      query.limit,
      query.after === undefined ? '' : String(query.after.createdAt),
      query.after?.id ?? '',
      PURGE_BATCH,
    ];
    // Listing purges expired sessions first; their expiry events go with the purge.
    const events = expiryEventArgs(this.keys, tenant);
    for (let attempt = 0; attempt < MAX_LIST_ATTEMPTS; attempt++) {
      const reply = (await storeCall(() =>
        LIST_SESSIONS.run(this.redis, [...events.keys, index], [...events.args, ...args]),
      )) as unknown[];
      if (reply[0] === 'retry') {
        await drainForRequest(
          (limit) => purgeExpiredSessions(this.redis, space, limit, events),
          PURGE_BATCH,
        );
        continue;
      }
      const sessions: StoredSession[] = [];
      for (let i = 3; i < reply.length; i += 3) {
        const session = this.toSession(String(reply[i]), pairsToObject(reply[i + 2] as RawRecord));
        if (session) sessions.push(session);
      }
      return { totalCount: Number(reply[1]), hasMore: reply[2] === 1, sessions };
    }
    throw new StoreUnavailableError(
      'expired sessions keep arriving faster than a list purges',
      'busy',
    );
  }

  purgeExpired(tenant: string, limit: number): Promise<PurgeResult> {
    return purgeExpiredSessions(
      this.redis,
      this.keys.sessions(tenant),
      limit,
      expiryEventArgs(this.keys, tenant),
    );
  }

  tenants(): AsyncIterable<string[]> {
    return this.registry.list();
  }

  releaseIfEmpty(tenant: string): Promise<boolean> {
    return this.registry.leaveIfEmpty(tenant);
  }

  private toSession(id: string, raw: Record<string, string>): StoredSession | null {
    if (raw.version === undefined) return null;
    return {
      id,
      config: this.codec.decode(raw.config) as Record<string, unknown>,
      metadata: this.codec.decode(raw.metadata) as Record<string, unknown>,
      status: raw.status,
      createdBy: raw.created_by,
      createdAt: Number(raw.created_at),
      updatedAt: Number(raw.updated_at),
      statusUpdatedAt: Number(raw.status_updated_at),
      statusUpdatedBy: raw.status_updated_by,
      expiresAt: Number(raw.expires_at),
      version: Number(raw.version),
    };
  }
}

/**
 * Runs a write, then drops its records from this process' L1 whatever the outcome (even unknown):
 * a read here right after the write must not wait for Redis' invalidation message to see it. A
 * function, not a method: the store observer times every method as an operation.
 */
async function forgetAfter<T>(
  l1: SessionL1 | undefined,
  records: string[],
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await storeCall(write);
  } finally {
    if (l1) for (const record of records) l1.invalidate(record);
  }
}

function pairsToObject(pairs: RawRecord): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i < pairs.length; i += 2) record[pairs[i]] = pairs[i + 1];
  return record;
}
