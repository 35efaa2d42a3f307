import { Inject, Injectable } from '@nestjs/common';
import {
  jsonByteLength,
  SessionExistsError,
  SessionRepository,
  type NewSession,
  type StoredSession,
  type UpdateOutcome,
} from '@app/redis';
import { actingAs, actsForOthers, type Principal } from '../auth/principal';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import {
  ConflictError,
  InvalidRequestError,
  PayloadTooLargeError,
  ResourceNotFoundError,
  VersionMismatchError,
} from '../common/errors/domain-errors';
import { decodeCursor, encodeCursor, queryFingerprint } from '../common/pagination/cursor';
import type { SessionIdsDto } from './dto/batch-sessions.dto';
import type { CreateSessionDto } from './dto/create-session.dto';
import type { ListSessionsQueryDto } from './dto/list-sessions.query';
import { DEFAULT_STATUS } from './dto/session-fields';
import type {
  BatchDeletedSessionsDto,
  BatchGetSessionsDto,
  CreatedSessionDto,
  DeletedSessionDto,
  SessionDto,
  SessionListDto,
  SessionStatusDto,
  StatusUpdatedDto,
  UpdatedSessionDto,
} from './dto/session-responses.dto';
import type { UpdateSessionDto, UpdateSessionStatusDto } from './dto/update-session.dto';
import { isoTime } from '../common/http/iso-time';
import { newRecordId, recordIdsAreDerived } from '../common/idempotency/record-ids';
import { checkRepresentationPatch } from '../common/validation/representation-patch';
import { SESSION_PATCH_SHAPE } from './dto/session-patch';
import { DEFAULT_PAGE_SIZE } from '../common/pagination/page-query.dto';

/** A merge patch of the session's representation: the members a client may change. */
export interface SessionPatch {
  session_config?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  status?: string;
}

/** Session CRUD on top of SessionRepository: validation that needs config, mapping, errors. */
@Injectable()
export class SessionsService {
  private readonly limits: AppConfig['sessions'];

  constructor(
    private readonly sessions: SessionRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.limits = config.sessions;
  }

  async create(
    tenant: string,
    input: CreateSessionDto,
    caller?: Principal,
  ): Promise<CreatedSessionDto> {
    const [created] = await this.createMany(tenant, [input], caller, () => '');
    return created;
  }

  async createMany(
    tenant: string,
    inputs: CreateSessionDto[],
    caller?: Principal,
    fieldPrefix: (index: number) => string = (i) => `sessions[${i}].`,
  ): Promise<CreatedSessionDto[]> {
    // All-or-nothing: every item is checked before anything is written.
    const drafts = inputs.map((input, i) => this.draft(input, fieldPrefix(i), caller, i));
    let createdAt: number;
    try {
      createdAt = await this.sessions.create(tenant, drafts);
    } catch (error) {
      if (!(error instanceof SessionExistsError)) throw error;
      return this.alreadyCreated(tenant, drafts, error);
    }
    return drafts.map((draft) => ({
      session_id: draft.id,
      created_at: isoTime(createdAt),
      status: draft.status,
      version: 1,
    }));
  }

  /**
   * A create under an Idempotency-Key whose ids are already stored: an earlier attempt of this very
   * request landed (its reply was lost, or its key bookkeeping failed). It is answered as created,
   * from what is stored, instead of being written a second time.
   */
  private async alreadyCreated(
    tenant: string,
    drafts: NewSession[],
    error: SessionExistsError,
  ): Promise<CreatedSessionDto[]> {
    if (!recordIdsAreDerived()) throw new ConflictError(error.message);
    const stored = await this.sessions.getMany(
      tenant,
      drafts.map((draft) => draft.id),
    );
    return drafts.map((draft, i) => {
      const session = stored[i];
      // The earlier attempt was one atomic write: all of its sessions exist, or it expired since.
      if (!session) throw new ConflictError(error.message);
      return {
        session_id: session.id,
        created_at: isoTime(session.createdAt),
        status: session.status,
        version: session.version,
      };
    });
  }

  /** GET /sessions/{id}: the one read the session L1 may answer (see getRecent). */
  async get(tenant: string, sessionId: string): Promise<SessionDto> {
    const session = await this.sessions.getRecent(tenant, sessionId);
    if (!session) throw new ResourceNotFoundError('session', sessionId);
    return toSessionDto(session);
  }

  async getMany(tenant: string, { session_ids }: SessionIdsDto): Promise<BatchGetSessionsDto> {
    const found = await this.sessions.getMany(tenant, session_ids);
    return {
      sessions: found.filter((s): s is StoredSession => s !== null).map(toSessionDto),
      missing: session_ids.filter((_, i) => found[i] === null),
    };
  }

  /**
   * PUT: the plan's `{"updates": {...}}` merges session_config/metadata (RFC 7396); the top-level
   * alias replaces them whole. Both keep If-Match and never lose a concurrent write.
   */
  async update(
    tenant: string,
    sessionId: string,
    input: UpdateSessionDto,
    expectedVersion?: number,
  ): Promise<UpdatedSessionDto> {
    const { updates, ...alias } = input;
    const aliasGiven = Object.values(alias).some((value) => value !== undefined);
    if (updates !== undefined && aliasGiven) {
      throw InvalidRequestError.field(
        'body',
        'send either {"updates": {...}} (merged) or top-level fields (replaced), not both',
      );
    }
    if (updates !== undefined) {
      return this.mergePatch(
        tenant,
        sessionId,
        {
          session_config: updates.session_config,
          metadata: updates.metadata,
          status: updates.status,
        },
        expectedVersion,
        'updates.',
      );
    }
    if (!aliasGiven) {
      throw InvalidRequestError.field(
        'updates',
        'give at least one of updates.session_config, updates.metadata, updates.status',
      );
    }
    const outcome = await this.sessions.update(
      tenant,
      sessionId,
      { config: input.session_config, metadata: input.metadata, status: input.status },
      { expectedVersion, maxPayloadBytes: this.limits.maxPayloadBytes },
    );
    return this.updatedDto(sessionId, this.expectUpdated(outcome, sessionId, expectedVersion));
  }

  /** PATCH (application/merge-patch+json): the body patches the session's representation. */
  patch(
    tenant: string,
    sessionId: string,
    body: Record<string, unknown>,
    expectedVersion?: number,
  ): Promise<UpdatedSessionDto> {
    checkRepresentationPatch(body, SESSION_PATCH_SHAPE);
    // The shape check above guarantees the members' types.
    return this.mergePatch(tenant, sessionId, body, expectedVersion);
  }

  /** RFC 7396 merge of the session's representation (PATCH, and PUT's `updates`). */
  async mergePatch(
    tenant: string,
    sessionId: string,
    patch: SessionPatch,
    expectedVersion?: number,
    fieldPrefix = '',
  ): Promise<UpdatedSessionDto> {
    if (
      patch.session_config === undefined &&
      patch.metadata === undefined &&
      patch.status === undefined
    ) {
      throw InvalidRequestError.field(
        fieldPrefix ? fieldPrefix.slice(0, -1) : 'body',
        `give at least one of ${fieldPrefix}session_config, ${fieldPrefix}metadata, ${fieldPrefix}status`,
      );
    }
    const outcome = await this.sessions.mergePatch(
      tenant,
      sessionId,
      { config: patch.session_config, metadata: patch.metadata, status: patch.status },
      { expectedVersion, maxPayloadBytes: this.limits.maxPayloadBytes },
    );
    return this.updatedDto(sessionId, this.expectUpdated(outcome, sessionId, expectedVersion));
  }

  async updateStatus(
    tenant: string,
    sessionId: string,
    input: UpdateSessionStatusDto,
    expectedVersion?: number,
    caller?: Principal,
  ): Promise<StatusUpdatedDto> {
    const outcome = await this.sessions.update(
      tenant,
      sessionId,
      { status: input.status, statusUpdatedBy: actingAs(caller, input.updated_by) },
      { expectedVersion, maxPayloadBytes: this.limits.maxPayloadBytes },
    );
    return this.updatedDto(sessionId, this.expectUpdated(outcome, sessionId, expectedVersion));
  }

  async getStatus(tenant: string, sessionId: string): Promise<SessionStatusDto> {
    const session = await this.sessions.get(tenant, sessionId);
    if (!session) throw new ResourceNotFoundError('session', sessionId);
    return {
      session_id: sessionId,
      status: session.status,
      last_updated: isoTime(session.statusUpdatedAt),
    };
  }

  async delete(
    tenant: string,
    sessionId: string,
    expectedVersion?: number,
  ): Promise<DeletedSessionDto> {
    const outcome = await this.sessions.delete(tenant, [sessionId], expectedVersion);
    if (outcome.kind === 'version_mismatch') {
      throw new VersionMismatchError(expectedVersion ?? 0, outcome.currentVersion);
    }
    if (outcome.deleted.length === 0) throw new ResourceNotFoundError('session', sessionId);
    return {
      deleted: true,
      deleted_at: isoTime(outcome.deletedAt),
      memory_records_deleted: outcome.memoryRecordsDeleted,
    };
  }

  async deleteMany(
    tenant: string,
    { session_ids }: SessionIdsDto,
  ): Promise<BatchDeletedSessionsDto> {
    const outcome = await this.sessions.delete(tenant, session_ids);
    if (outcome.kind !== 'deleted') throw new Error('batch delete never compares versions');
    return {
      deleted: outcome.deleted,
      missing: outcome.missing,
      memory_records_deleted: outcome.memoryRecordsDeleted,
    };
  }

  async list(tenant: string, query: ListSessionsQueryDto): Promise<SessionListDto> {
    if (query.cursor !== undefined && query.offset !== undefined) {
      throw InvalidRequestError.field('offset', 'cannot be combined with cursor');
    }
    const createdFrom =
      query.created_after === undefined ? undefined : Date.parse(query.created_after);
    // created_before is exclusive; scores are whole milliseconds.
    const createdUntil =
      query.created_before === undefined ? undefined : Date.parse(query.created_before) - 1;
    const order = (query.sort ?? '-created_at') === 'created_at' ? 'asc' : 'desc';
    const fingerprint = queryFingerprint({
      created_by: query.created_by,
      status: query.status,
      created_after: createdFrom,
      created_before: createdUntil,
      order,
    });
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, fingerprint);

    const page = await this.sessions.list(tenant, {
      createdBy: query.created_by,
      status: query.status,
      createdFrom,
      createdUntil,
      order,
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      offset: query.offset ?? 0,
      after: after && { createdAt: after.score, id: after.id },
    });
    const last = page.sessions[page.sessions.length - 1];
    return {
      sessions: page.sessions.map(toSessionDto),
      total_count: page.totalCount,
      has_more: page.hasMore,
      next_cursor:
        page.hasMore && last
          ? encodeCursor({ score: last.createdAt, id: last.id }, fingerprint)
          : null,
    };
  }

  private draft(
    input: CreateSessionDto,
    fieldPrefix: string,
    caller: Principal | undefined,
    index: number,
  ) {
    const ttlSeconds = input.ttl_seconds ?? this.limits.defaultTtlSeconds;
    if (ttlSeconds > this.limits.maxTtlSeconds) {
      throw InvalidRequestError.field(
        `${fieldPrefix}ttl_seconds`,
        `must not be greater than ${this.limits.maxTtlSeconds} (SESSION_MAX_TTL_SECONDS)`,
      );
    }
    const metadata = input.metadata ?? {};
    const bytes = jsonByteLength(input.session_config) + jsonByteLength(metadata);
    if (bytes > this.limits.maxPayloadBytes) {
      throw new PayloadTooLargeError(
        [`${fieldPrefix}session_config`, `${fieldPrefix}metadata`],
        bytes,
        this.limits.maxPayloadBytes,
      );
    }
    // Only callers that act for others (orchestrators, admins) may name another creator, and
    // they must: defaulting to the orchestrator's own id would file the session under it silently.
    const createdBy = actingAs(caller, input.created_by);
    if (createdBy === undefined || (input.created_by === undefined && actsForOthers(caller))) {
      throw InvalidRequestError.field(
        `${fieldPrefix}created_by`,
        `${fieldPrefix}created_by is required for orchestrator and admin tokens (the user or service the session is for)`,
      );
    }
    return {
      id: newRecordId(index),
      config: input.session_config,
      metadata,
      status: input.status ?? DEFAULT_STATUS,
      createdBy,
      ttlSeconds,
    };
  }

  /** Every session write answers the same: its status, time and new version. */
  private updatedDto(
    sessionId: string,
    updated: { status: string; updatedAt: number; version: number },
  ): UpdatedSessionDto {
    return {
      session_id: sessionId,
      status: updated.status,
      updated_at: isoTime(updated.updatedAt),
      version: updated.version,
    };
  }

  private expectUpdated(
    outcome: UpdateOutcome,
    sessionId: string,
    expectedVersion: number | undefined,
  ) {
    switch (outcome.kind) {
      case 'updated':
        return outcome;
      case 'not_found':
        throw new ResourceNotFoundError('session', sessionId);
      case 'version_mismatch':
        throw new VersionMismatchError(expectedVersion ?? 0, outcome.currentVersion);
      case 'too_large':
        throw new PayloadTooLargeError(
          ['session_config', 'metadata'],
          outcome.bytes,
          this.limits.maxPayloadBytes,
        );
      case 'contended':
        throw new ConflictError('the session kept changing under this merge; retry');
    }
  }
}

export function toSessionDto(session: StoredSession): SessionDto {
  return {
    session_id: session.id,
    session_config: session.config,
    metadata: session.metadata,
    status: session.status,
    created_by: session.createdBy,
    created_at: isoTime(session.createdAt),
    updated_at: isoTime(session.updatedAt),
    expires_at: isoTime(session.expiresAt),
    version: session.version,
  };
}
