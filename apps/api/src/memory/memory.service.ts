import { Inject, Injectable } from '@nestjs/common';
import {
  MemoryRepository,
  type CrossAgentQuery,
  type MemoryPosition,
  type MemoryWriteOutcome,
  type StoredMemory,
} from '@app/redis';
import { actingAs, isAgentOnly, type Principal } from '../auth/principal';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { newRecordId, recordIdsAreDerived } from '../common/idempotency/record-ids';
import {
  ConflictError,
  InvalidRequestError,
  PayloadTooLargeError,
  ResourceNotFoundError,
  VersionMismatchError,
} from '../common/errors/domain-errors';
import {
  decodeCursor,
  encodeCursor,
  queryFingerprint,
  type CursorPosition,
} from '../common/pagination/cursor';
import type { CreateMemoryDto } from './dto/create-memory.dto';
import type {
  CrossAgentMemoryQueryDto,
  ListAgentMemoryQueryDto,
  SessionMemoryQueryDto,
} from './dto/memory-queries.dto';
import { MAX_QUERY_OFFSET } from './dto/memory-fields';
import type {
  AgentMemoryListDto,
  CreatedMemoryDto,
  CrossAgentMemoryDto,
  DeletedMemoryDto,
  MemoryRecordDto,
  SessionMemoryDto,
  UpdatedMemoryDto,
} from './dto/memory-responses.dto';
import type { UpdateMemoryDto } from './dto/update-memory.dto';
import { isoTime } from '../common/http/iso-time';
import {
  checkRepresentationPatch,
  matching,
  mergedObject,
  type RepresentationShape,
} from '../common/validation/representation-patch';
import { ACTOR_ID_PATTERN, ACTOR_ID_RULE } from '../sessions/dto/session-fields';
import { DEFAULT_PAGE_SIZE, type PageQueryDto } from '../common/pagination/page-query.dto';

/**
 * Agent memory on top of MemoryRepository: validation that needs config, agent isolation, mapping
 * and errors.
 *
 * Isolation (Security issue): an agent-only token reaches /agents/{agent_id}/... only for its own
 * id (404 otherwise, so other agents' ids cannot be probed), and its cross-agent queries return its
 * own records plus `shared` records of sessions where it has memory itself. No principal (a route
 * without the guard) counts as privileged, like the rest of the API.
 */
@Injectable()
export class MemoryService {
  private readonly limits: AppConfig['memory'];

  private readonly patchShape: RepresentationShape;

  constructor(
    private readonly memory: MemoryRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.limits = config.memory;
    this.patchShape = {
      resource: 'memory record',
      writable: {
        memory_data: mergedObject,
        memory_type: (value) =>
          typeof value === 'string' && this.limits.types.includes(value)
            ? undefined
            : this.typeRule(),
        updated_by: matching(ACTOR_ID_PATTERN, ACTOR_ID_RULE),
      },
      readOnly: [
        'memory_id',
        'agent_id',
        'session_id',
        'created_by',
        'created_at',
        'updated_at',
        'expires_at',
        'version',
      ],
      unknownHint: 'keys of memory_data go inside {"memory_data": {...}}',
    };
  }

  async create(
    tenant: string,
    agentId: string,
    input: CreateMemoryDto,
    caller?: Principal,
  ): Promise<CreatedMemoryDto> {
    this.assertOwnAgent(agentId, caller);
    this.assertType(input.memory_type);
    this.assertSize(input.memory_data);
    const memoryId = newRecordId(0);
    const outcome = await this.memory.create(
      tenant,
      {
        memoryId,
        agentId,
        sessionId: input.session_id,
        memoryType: input.memory_type,
        data: input.memory_data,
        createdBy: this.createdBy(caller, input.created_by),
        ttlSeconds: this.limits.defaultTtlSeconds,
      },
      this.limits.maxPayloadBytes,
    );
    switch (outcome.kind) {
      case 'session_not_found':
        throw new ResourceNotFoundError('session', input.session_id);
      case 'exists': {
        // An earlier attempt of this very request (same Idempotency-Key and body) landed: answer it.
        const stored =
          recordIdsAreDerived() && outcome.memoryId === memoryId
            ? await this.memory.get(tenant, agentId, input.session_id)
            : null;
        if (stored?.memoryId === memoryId) {
          return {
            memory_id: memoryId,
            agent_id: agentId,
            session_id: input.session_id,
            created_at: isoTime(stored.createdAt),
            version: stored.version,
          };
        }
        throw new ConflictError(
          `agent ${agentId} already has memory ${outcome.memoryId} in session ${input.session_id}; use PUT or PATCH`,
        );
      }
      case 'created':
        return {
          memory_id: memoryId,
          agent_id: agentId,
          session_id: input.session_id,
          created_at: isoTime(outcome.createdAt),
          version: 1,
        };
    }
  }

  async get(
    tenant: string,
    agentId: string,
    sessionId: string,
    caller?: Principal,
  ): Promise<MemoryRecordDto> {
    this.assertOwnAgent(agentId, caller);
    const record = await this.memory.get(tenant, agentId, sessionId);
    if (!record) throw this.notFound(agentId, sessionId);
    return toMemoryDto(record);
  }

  async replace(
    tenant: string,
    agentId: string,
    sessionId: string,
    input: UpdateMemoryDto,
    expectedVersion: number | undefined,
    caller?: Principal,
  ): Promise<UpdatedMemoryDto> {
    this.assertOwnAgent(agentId, caller);
    if (input.memory_data === undefined && input.memory_type === undefined) {
      throw InvalidRequestError.field('body', 'give at least one of memory_data, memory_type');
    }
    if (input.memory_data !== undefined) this.assertSize(input.memory_data);
    this.assertType(input.memory_type);
    const outcome = await this.memory.replace(
      tenant,
      agentId,
      sessionId,
      {
        data: input.memory_data,
        memoryType: input.memory_type,
        updatedBy: this.updatedBy(caller, input.updated_by),
      },
      { expectedVersion, maxDataBytes: this.limits.maxPayloadBytes },
    );
    return this.expectUpdated(outcome, agentId, sessionId, expectedVersion);
  }

  /**
   * RFC 7396 on the record's representation (what GET returns): memory_data is merged recursively,
   * memory_type replaced; read-only members are refused by name.
   */
  async mergePatch(
    tenant: string,
    agentId: string,
    sessionId: string,
    patch: Record<string, unknown>,
    expectedVersion: number | undefined,
    caller?: Principal,
  ): Promise<UpdatedMemoryDto> {
    this.assertOwnAgent(agentId, caller);
    checkRepresentationPatch(patch, this.patchShape);
    const {
      memory_data: data,
      memory_type: memoryType,
      updated_by: updatedBy,
    } = patch as {
      memory_data?: Record<string, unknown>;
      memory_type?: string;
      updated_by?: string;
    };
    const outcome = await this.memory.mergePatch(
      tenant,
      agentId,
      sessionId,
      data ?? {},
      this.updatedBy(caller, updatedBy),
      { expectedVersion, maxDataBytes: this.limits.maxPayloadBytes },
      memoryType,
    );
    return this.expectUpdated(outcome, agentId, sessionId, expectedVersion);
  }

  async delete(
    tenant: string,
    agentId: string,
    sessionId: string,
    expectedVersion: number | undefined,
    caller?: Principal,
  ): Promise<DeletedMemoryDto> {
    this.assertOwnAgent(agentId, caller);
    const outcome = await this.memory.delete(tenant, agentId, sessionId, expectedVersion);
    if (outcome.kind === 'version_mismatch') {
      throw new VersionMismatchError(expectedVersion ?? 0, outcome.currentVersion);
    }
    if (!outcome.existed) throw this.notFound(agentId, sessionId);
    return { deleted: true, deleted_at: isoTime(outcome.deletedAt) };
  }

  async listByAgent(
    tenant: string,
    agentId: string,
    query: ListAgentMemoryQueryDto,
    caller?: Principal,
  ): Promise<AgentMemoryListDto> {
    this.assertOwnAgent(agentId, caller);
    this.assertType(query.memory_type);
    if (query.cursor !== undefined && query.offset !== undefined) {
      throw InvalidRequestError.field('offset', 'cannot be combined with cursor');
    }
    const createdFrom =
      query.created_after === undefined ? undefined : Date.parse(query.created_after);
    const fingerprint = queryFingerprint({
      agent_id: agentId,
      memory_type: query.memory_type,
      created_after: createdFrom,
    });
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, fingerprint);
    const page = await this.memory.listByAgent(tenant, agentId, {
      memoryType: query.memory_type,
      createdFrom,
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      offset: query.offset ?? 0,
      after: after && { createdAt: after.score, sessionId: after.id },
    });
    const last = page.records[page.records.length - 1];
    return {
      memory_records: page.records.map(toMemoryDto),
      total_count: page.totalCount,
      has_more: page.hasMore,
      next_cursor:
        page.hasMore && last
          ? encodeCursor({ score: last.createdAt, id: last.sessionId }, fingerprint)
          : null,
    };
  }

  async forSession(
    tenant: string,
    sessionId: string,
    query: SessionMemoryQueryDto,
    caller?: Principal,
  ): Promise<SessionMemoryDto> {
    this.assertType(query.memory_type);
    const page = await this.queryPage(
      tenant,
      { list: 'session', session_id: sessionId, memory_type: query.memory_type },
      {
        agentIds: [],
        sessionIds: [sessionId],
        memoryType: query.memory_type,
        requireSession: true,
      },
      query,
      caller,
    );
    // Like GET /sessions/{id}: a deleted or expired session is a 404, not an empty list.
    if (page === null) throw new ResourceNotFoundError('session', sessionId);
    const { memory_records, ...paging } = page;
    return {
      session_id: sessionId,
      agent_memories: memory_records,
      total_agents: paging.total_count,
      ...paging,
    };
  }

  async acrossAgents(
    tenant: string,
    query: CrossAgentMemoryQueryDto,
    caller?: Principal,
  ): Promise<CrossAgentMemoryDto> {
    this.assertType(query.memory_type);
    const agentIds = query.agent_ids ?? [];
    const sessionIds = (query.session_ids ?? []).map((id) => id.toLowerCase());
    if (agentIds.length === 0 && sessionIds.length === 0) {
      throw InvalidRequestError.field('agent_ids', 'give agent_ids, session_ids or both');
    }
    const page = await this.queryPage(
      tenant,
      {
        list: 'agents',
        agent_ids: agentIds.join(','),
        session_ids: sessionIds.join(','),
        memory_type: query.memory_type,
      },
      { agentIds, sessionIds, memoryType: query.memory_type },
      query,
      caller,
    );
    if (page === null) throw new Error('a cross-agent query never requires a session');
    return page;
  }

  /** One page of a cross-agent query, with the paging members every list carries. */
  private async queryPage(
    tenant: string,
    filters: Record<string, string | undefined>,
    selection: Pick<CrossAgentQuery, 'agentIds' | 'sessionIds' | 'memoryType' | 'requireSession'>,
    paging: PageQueryDto,
    caller: Principal | undefined,
  ): Promise<CrossAgentMemoryDto | null> {
    if (paging.cursor !== undefined && paging.offset !== undefined) {
      throw InvalidRequestError.field('offset', 'cannot be combined with cursor');
    }
    const limit = paging.limit ?? DEFAULT_PAGE_SIZE;
    const offset = paging.offset ?? 0;
    // Each page reads the top offset + limit of every index it merges: bounded, so deep pages
    // go by cursor.
    if (offset + limit > MAX_QUERY_OFFSET) {
      throw InvalidRequestError.field(
        'offset',
        `offset + limit must not exceed ${MAX_QUERY_OFFSET} on this list; page further with cursor`,
      );
    }
    const viewer = this.viewer(caller);
    const fingerprint = queryFingerprint({ ...filters, viewer });
    const after =
      paging.cursor === undefined
        ? undefined
        : positionOf(decodeCursor(paging.cursor, fingerprint));
    const result = await this.memory.query(tenant, {
      ...selection,
      limit,
      offset,
      after,
      viewer,
    });
    if (result.sessionMissing) return null;
    if (result.scopeTooBroad !== undefined) {
      throw InvalidRequestError.field(
        'session_ids',
        `your agent has memory in more than ${result.scopeTooBroad} sessions; name the sessions to search (session_ids)`,
      );
    }
    const last = result.records[result.records.length - 1];
    return {
      memory_records: result.records.map(toMemoryDto),
      total_count: result.totalCount,
      has_more: result.hasMore,
      next_cursor:
        result.hasMore && last
          ? encodeCursor(
              { score: last.createdAt, id: `${last.agentId}:${last.sessionId}` },
              fingerprint,
            )
          : null,
    };
  }

  private viewer(caller: Principal | undefined): string | undefined {
    return caller !== undefined && isAgentOnly(caller) ? caller.sub : undefined;
  }

  private assertOwnAgent(agentId: string, caller: Principal | undefined): void {
    // 404, not 403: an agent learns nothing about which other agents have memory.
    if (caller !== undefined && isAgentOnly(caller) && caller.sub !== agentId) {
      throw new ResourceNotFoundError('agent', agentId);
    }
  }

  private updatedBy(
    caller: Principal | undefined,
    claimed: string | undefined,
  ): string | undefined {
    if (caller !== undefined && isAgentOnly(caller)) return caller.sub;
    if (claimed === undefined) return caller?.sub;
    return actingAs(caller, claimed);
  }

  private createdBy(caller: Principal | undefined, claimed: string | undefined): string {
    const createdBy = actingAs(caller, claimed);
    if (createdBy === undefined)
      throw InvalidRequestError.field('created_by', 'created_by is required');
    return createdBy;
  }

  /** The allowed set is configuration, so it is checked here rather than by the DTOs. */
  private assertType(memoryType: string | undefined): void {
    if (memoryType !== undefined && !this.limits.types.includes(memoryType)) {
      throw InvalidRequestError.field('memory_type', this.typeRule());
    }
  }

  private typeRule(): string {
    return `must be one of ${this.limits.types.join(', ')} (MEMORY_TYPES)`;
  }

  private assertSize(data: Record<string, unknown>): void {
    const bytes = Buffer.byteLength(JSON.stringify(data), 'utf8');
    if (bytes > this.limits.maxPayloadBytes) {
      throw new PayloadTooLargeError(['memory_data'], bytes, this.limits.maxPayloadBytes);
    }
  }

  private notFound(agentId: string, sessionId: string): ResourceNotFoundError {
    return new ResourceNotFoundError('memory of agent', `${agentId} in session ${sessionId}`);
  }

  private expectUpdated(
    outcome: MemoryWriteOutcome,
    agentId: string,
    sessionId: string,
    expectedVersion: number | undefined,
  ): UpdatedMemoryDto {
    switch (outcome.kind) {
      case 'updated':
        return {
          memory_id: outcome.memoryId,
          updated_at: isoTime(outcome.updatedAt),
          version: outcome.version,
        };
      case 'not_found':
        throw this.notFound(agentId, sessionId);
      case 'version_mismatch':
        throw new VersionMismatchError(expectedVersion ?? 0, outcome.currentVersion);
      case 'too_large':
        throw new PayloadTooLargeError(['memory_data'], outcome.bytes, this.limits.maxPayloadBytes);
      case 'contended':
        throw new ConflictError('memory_data kept changing under this merge; retry');
    }
  }
}

/** A cross-agent cursor names `<agent_id>:<session_id>`; session ids are UUIDs (36 characters). */
function positionOf(cursor: CursorPosition): MemoryPosition {
  const separator = cursor.id.length - 37;
  if (separator < 1 || cursor.id[separator] !== ':') {
    throw InvalidRequestError.field('cursor', 'is not a cursor returned by this API');
  }
  return {
    createdAt: cursor.score,
    agentId: cursor.id.slice(0, separator),
    sessionId: cursor.id.slice(separator + 1),
  };
}

export function toMemoryDto(record: StoredMemory): MemoryRecordDto {
  return {
    memory_id: record.memoryId,
    agent_id: record.agentId,
    session_id: record.sessionId,
    memory_data: record.data,
    memory_type: record.memoryType,
    created_by: record.createdBy,
    created_at: isoTime(record.createdAt),
    updated_at: isoTime(record.updatedAt),
    expires_at: isoTime(record.expiresAt),
    version: record.version,
  };
}
