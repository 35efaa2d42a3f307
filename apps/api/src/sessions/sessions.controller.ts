import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { RequirePermissions } from '../auth/require-permissions.decorator';
import { etagOf, IfMatchVersion } from '../common/http/if-match.decorator';
import { Tenant } from '../common/http/tenant.decorator';
import { UuidParamPipe } from '../common/http/uuid-param.pipe';
import { ApiIfMatchHeader, ApiSessionIdParam } from '../common/swagger/api-params.decorator';
import { ApiProblems } from '../common/swagger/api-problems.decorator';
import { Idempotent } from '../common/idempotency/idempotent.decorator';
import { BatchCreateSessionsDto, SessionIdsDto } from './dto/batch-sessions.dto';
import { CreateSessionDto } from './dto/create-session.dto';
import { ListSessionsQueryDto } from './dto/list-sessions.query';
import {
  BatchCreatedSessionsDto,
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
import { UpdateSessionDto, UpdateSessionStatusDto } from './dto/update-session.dto';
import { RateLimitClass } from '../throttling/rate-limit.decorator';
import { MERGE_PATCH_CONTENT_TYPE, MergePatchBody } from '../memory/merge-patch-body.decorator';
import { SessionsService } from './sessions.service';
import { STATUS_PATTERN } from './dto/session-fields';

@ApiTags('sessions')
@Controller('sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Post()
  @RequirePermissions('sessions:create')
  @Idempotent()
  @ApiOperation({
    summary: 'Create a session',
    description:
      'Creates a session with a server-assigned UUID v4, version 1 and a TTL. Safe to retry with Idempotency-Key.',
  })
  @ApiCreatedResponse({
    type: CreatedSessionDto,
    description: 'Location and ETag headers point at the new session.',
  })
  @ApiProblems(400, 413)
  async create(
    @Tenant() tenant: string,
    @Body() body: CreateSessionDto,
    @CurrentPrincipal() caller: Principal | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CreatedSessionDto> {
    const created = await this.sessions.create(tenant, body, caller);
    void reply
      .header('location', `/api/v1/sessions/${created.session_id}`)
      .header('etag', etagOf(1));
    return created;
  }

  @Post('batch')
  @RateLimitClass('bulk')
  @RequirePermissions('sessions:create')
  @ApiOperation({
    summary: 'Create up to 100 sessions atomically (all or none)',
    description:
      'Each item is validated like POST /sessions; one invalid item refuses the whole batch (400 naming it).',
  })
  @ApiCreatedResponse({ type: BatchCreatedSessionsDto })
  @ApiProblems(400, 413)
  async createMany(
    @Tenant() tenant: string,
    @Body() body: BatchCreateSessionsDto,
    @CurrentPrincipal() caller: Principal | undefined,
  ): Promise<BatchCreatedSessionsDto> {
    return { sessions: await this.sessions.createMany(tenant, body.sessions, caller) };
  }

  @Post('batch-get')
  @RateLimitClass('bulk')
  @RequirePermissions('sessions:read')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Read up to 100 sessions in one round trip',
    description: 'Ids that do not exist (or expired) are listed in missing, never an error.',
  })
  @ApiBody({ type: SessionIdsDto })
  @ApiOkResponse({ type: BatchGetSessionsDto })
  @ApiProblems(400)
  getMany(@Tenant() tenant: string, @Body() body: SessionIdsDto): Promise<BatchGetSessionsDto> {
    return this.sessions.getMany(tenant, body);
  }

  @Post('batch-delete')
  @RateLimitClass('bulk')
  @RequirePermissions('sessions:delete')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Delete up to 100 sessions in one atomic step',
    description:
      'Deletes each session with its agent memory; ids that do not exist are listed in missing.',
  })
  @ApiBody({ type: SessionIdsDto })
  @ApiOkResponse({ type: BatchDeletedSessionsDto })
  @ApiProblems(400)
  deleteMany(
    @Tenant() tenant: string,
    @Body() body: SessionIdsDto,
  ): Promise<BatchDeletedSessionsDto> {
    return this.sessions.deleteMany(tenant, body);
  }

  @Get()
  @RequirePermissions('sessions:read')
  @ApiOperation({
    summary: 'List sessions',
    description:
      'Filters combine (AND). Page with offset, or with next_cursor for stable deep paging. ' +
      'Backed by sorted-set indexes: the cost does not grow with the number of sessions stored.',
  })
  @ApiOkResponse({ type: SessionListDto })
  @ApiProblems(400)
  list(@Tenant() tenant: string, @Query() query: ListSessionsQueryDto): Promise<SessionListDto> {
    return this.sessions.list(tenant, query);
  }

  @Get(':session_id')
  @RequirePermissions('sessions:read')
  @ApiSessionIdParam()
  @ApiOperation({
    summary: 'Read a session',
    description: 'ETag carries the version for a later If-Match. Expired sessions are a 404.',
  })
  @ApiOkResponse({ type: SessionDto, description: 'ETag carries the version.' })
  @ApiProblems(400, 404)
  async get(
    @Tenant() tenant: string,
    @Param('session_id', UuidParamPipe) sessionId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SessionDto> {
    const session = await this.sessions.get(tenant, sessionId);
    void reply.header('etag', etagOf(session.version));
    return session;
  }

  @Put(':session_id')
  @RequirePermissions('sessions:update')
  @ApiSessionIdParam()
  @ApiIfMatchHeader()
  @ApiOperation({
    summary: 'Update session_config, metadata and/or status',
    description:
      'The plan\'s body `{"updates": {"session_config"?, "metadata"?, "status"?}}`: session_config ' +
      'and metadata are merged into the stored objects by RFC 7396 rules (given keys replace, ' +
      'objects merge recursively, null removes a key, other keys are kept); status replaces. ' +
      'Alias: the same fields at the top level (without `updates`) replace the stored objects ' +
      'whole. Concurrent updates never lose one another; If-Match makes the write conditional.',
  })
  @ApiBody({
    type: UpdateSessionDto,
    examples: {
      plan: {
        summary: "The plan's form (merged)",
        value: {
          updates: {
            session_config: { max_turns: 30, draft: null },
            metadata: { priority: 'low' },
            status: 'running',
          },
        },
      },
      alias: {
        summary: 'Top-level alias (replaces each object given)',
        value: { metadata: { project: 'apollo' }, status: 'running' },
      },
    },
  })
  @ApiOkResponse({ type: UpdatedSessionDto })
  @ApiProblems(400, 404, 409, 412, 413)
  async update(
    @Tenant() tenant: string,
    @Param('session_id', UuidParamPipe) sessionId: string,
    @Body() body: UpdateSessionDto,
    @IfMatchVersion() expectedVersion: number | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UpdatedSessionDto> {
    const updated = await this.sessions.update(tenant, sessionId, body, expectedVersion);
    void reply.header('etag', etagOf(updated.version));
    return updated;
  }

  @Patch(':session_id')
  @RequirePermissions('sessions:update')
  @ApiSessionIdParam()
  @ApiIfMatchHeader()
  @ApiOperation({
    summary: "Merge-patch the session's representation (RFC 7396)",
    description:
      'Send Content-Type: application/merge-patch+json. session_config and metadata merge ' +
      'recursively (null removes a key), status replaces; session_id, created_by, created_at, ' +
      'updated_at, expires_at and version are read-only (400 naming them). Same effect as PUT ' +
      'with `updates`.',
  })
  @ApiConsumes(MERGE_PATCH_CONTENT_TYPE)
  @ApiBody({
    schema: {
      type: 'object',
      properties: {
        session_config: { type: 'object', additionalProperties: true },
        metadata: { type: 'object', additionalProperties: true },
        status: { type: 'string', pattern: STATUS_PATTERN.source, maxLength: 32 },
      },
      example: { session_config: { max_turns: 30 }, metadata: { draft: null }, status: 'running' },
    },
  })
  @ApiOkResponse({ type: UpdatedSessionDto })
  @ApiProblems(400, 404, 409, 412, 413, 415)
  async mergePatch(
    @Tenant() tenant: string,
    @Param('session_id', UuidParamPipe) sessionId: string,
    @MergePatchBody() patch: Record<string, unknown>,
    @IfMatchVersion() expectedVersion: number | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UpdatedSessionDto> {
    const updated = await this.sessions.patch(tenant, sessionId, patch, expectedVersion);
    void reply.header('etag', etagOf(updated.version));
    return updated;
  }

  @Delete(':session_id')
  @RequirePermissions('sessions:delete')
  @ApiSessionIdParam()
  @ApiIfMatchHeader()
  @ApiOperation({
    summary: 'Delete a session',
    description:
      "Deletes the session and every agent's memory of it in one atomic step. If-Match makes it conditional.",
  })
  @ApiOkResponse({ type: DeletedSessionDto })
  @ApiProblems(400, 404, 412)
  delete(
    @Tenant() tenant: string,
    @Param('session_id', UuidParamPipe) sessionId: string,
    @IfMatchVersion() expectedVersion: number | undefined,
  ): Promise<DeletedSessionDto> {
    return this.sessions.delete(tenant, sessionId, expectedVersion);
  }

  @Get(':session_id/status')
  @RequirePermissions('sessions:read')
  @ApiSessionIdParam()
  @ApiOperation({
    summary: 'Read only the status',
    description: "A cheap poll: status and when it last changed, without the session's payload.",
  })
  @ApiOkResponse({ type: SessionStatusDto })
  @ApiProblems(400, 404)
  getStatus(
    @Tenant() tenant: string,
    @Param('session_id', UuidParamPipe) sessionId: string,
  ): Promise<SessionStatusDto> {
    return this.sessions.getStatus(tenant, sessionId);
  }

  @Put(':session_id/status')
  @RequirePermissions('sessions:update')
  @ApiSessionIdParam()
  @ApiIfMatchHeader()
  @ApiOperation({
    summary: 'Change only the status (any orchestrator-defined value)',
    description:
      'The API enforces no lifecycle: any status matching the pattern is accepted. Bumps the version; If-Match makes it conditional.',
  })
  @ApiOkResponse({ type: StatusUpdatedDto })
  @ApiProblems(400, 404, 412)
  async updateStatus(
    @Tenant() tenant: string,
    @Param('session_id', UuidParamPipe) sessionId: string,
    @Body() body: UpdateSessionStatusDto,
    @IfMatchVersion() expectedVersion: number | undefined,
    @CurrentPrincipal() caller: Principal | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StatusUpdatedDto> {
    const updated = await this.sessions.updateStatus(
      tenant,
      sessionId,
      body,
      expectedVersion,
      caller,
    );
    void reply.header('etag', etagOf(updated.version));
    return updated;
  }
}
