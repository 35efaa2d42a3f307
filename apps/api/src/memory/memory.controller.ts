import { Body, Controller, Delete, Get, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
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
import { AgentIdParamPipe } from './agent-id-param.pipe';
import { CreateMemoryDto } from './dto/create-memory.dto';
import { AGENT_ID_PATTERN, EXAMPLE_AGENT_ID, MEMORY_TYPE_PATTERN } from './dto/memory-fields';
import { ACTOR_ID_PATTERN } from '../sessions/dto/session-fields';
import { ListAgentMemoryQueryDto } from './dto/memory-queries.dto';
import {
  AgentMemoryListDto,
  CreatedMemoryDto,
  DeletedMemoryDto,
  MemoryRecordDto,
  UpdatedMemoryDto,
} from './dto/memory-responses.dto';
import { UpdateMemoryDto } from './dto/update-memory.dto';
import { MERGE_PATCH_CONTENT_TYPE, MergePatchBody } from './merge-patch-body.decorator';
import { MemoryService } from './memory.service';

const AgentIdParam = () =>
  ApiParam({
    name: 'agent_id',
    example: EXAMPLE_AGENT_ID,
    schema: { type: 'string', pattern: AGENT_ID_PATTERN.source, maxLength: 128 },
  });

@ApiTags('memory')
@Controller('agents/:agent_id/memory')
export class MemoryController {
  constructor(private readonly memory: MemoryService) {}

  @Post()
  @RequirePermissions('memory:write')
  @Idempotent()
  @AgentIdParam()
  @ApiOperation({
    summary: "Create an agent's memory for a session",
    description: 'One record per (agent, session); a second one is a 409 (use PUT or PATCH).',
  })
  @ApiCreatedResponse({
    type: CreatedMemoryDto,
    description: 'Location and ETag headers point at the record.',
  })
  @ApiProblems(400, 404, 409, 413)
  async create(
    @Tenant() tenant: string,
    @Param('agent_id', AgentIdParamPipe) agentId: string,
    @Body() body: CreateMemoryDto,
    @CurrentPrincipal() caller: Principal | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CreatedMemoryDto> {
    const created = await this.memory.create(tenant, agentId, body, caller);
    void reply
      .header(
        'location',
        `/api/v1/agents/${encodeURIComponent(agentId)}/memory/${created.session_id}`,
      )
      .header('etag', etagOf(created.version));
    return created;
  }

  @Get()
  @RequirePermissions('memory:read')
  @AgentIdParam()
  @ApiOperation({
    summary: "List an agent's memory records (newest first)",
    description:
      'Page with offset, or with next_cursor. Index-backed: cost does not grow with the data stored.',
  })
  @ApiOkResponse({ type: AgentMemoryListDto })
  @ApiProblems(400, 404)
  list(
    @Tenant() tenant: string,
    @Param('agent_id', AgentIdParamPipe) agentId: string,
    @Query() query: ListAgentMemoryQueryDto,
    @CurrentPrincipal() caller: Principal | undefined,
  ): Promise<AgentMemoryListDto> {
    return this.memory.listByAgent(tenant, agentId, query, caller);
  }

  @Get(':session_id')
  @RequirePermissions('memory:read')
  @AgentIdParam()
  @ApiSessionIdParam()
  @ApiOperation({
    summary: "Read an agent's memory for a session",
    description:
      'ETag carries the version for a later If-Match. Agent tokens see what GET /memory/sessions/{session_id} lets them see.',
  })
  @ApiOkResponse({ type: MemoryRecordDto, description: 'ETag carries the version.' })
  @ApiProblems(400, 404)
  async get(
    @Tenant() tenant: string,
    @Param('agent_id', AgentIdParamPipe) agentId: string,
    @Param('session_id', UuidParamPipe) sessionId: string,
    @CurrentPrincipal() caller: Principal | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<MemoryRecordDto> {
    const record = await this.memory.get(tenant, agentId, sessionId, caller);
    void reply.header('etag', etagOf(record.version));
    return record;
  }

  @Put(':session_id')
  @RequirePermissions('memory:write')
  @AgentIdParam()
  @ApiSessionIdParam()
  @ApiIfMatchHeader()
  @ApiOperation({
    summary: 'Replace memory_data and/or memory_type (resets the TTL)',
    description:
      'Replaces what is given (memory_data whole), bumps the version; If-Match makes it conditional.',
  })
  @ApiOkResponse({ type: UpdatedMemoryDto })
  @ApiProblems(400, 404, 412, 413)
  async replace(
    @Tenant() tenant: string,
    @Param('agent_id', AgentIdParamPipe) agentId: string,
    @Param('session_id', UuidParamPipe) sessionId: string,
    @Body() body: UpdateMemoryDto,
    @IfMatchVersion() expectedVersion: number | undefined,
    @CurrentPrincipal() caller: Principal | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UpdatedMemoryDto> {
    const updated = await this.memory.replace(
      tenant,
      agentId,
      sessionId,
      body,
      expectedVersion,
      caller,
    );
    void reply.header('etag', etagOf(updated.version));
    return updated;
  }

  @Patch(':session_id')
  @RequirePermissions('memory:write')
  @AgentIdParam()
  @ApiSessionIdParam()
  @ApiIfMatchHeader()
  @ApiOperation({
    summary: "Merge-patch the record's representation (RFC 7396, atomic in Redis)",
    description:
      'The patch applies to what GET returns: `memory_data` is merged recursively (`null` removes ' +
      'a key, objects merge, anything else replaces), `memory_type` is replaced, `updated_by` as ' +
      'in PUT. memory_id, agent_id, session_id, created_by, created_at, updated_at, expires_at and ' +
      'version are read-only (400 naming them). Concurrent patches of different keys never lose ' +
      'one another. Send Content-Type: application/merge-patch+json.',
  })
  @ApiConsumes(MERGE_PATCH_CONTENT_TYPE)
  @ApiBody({
    schema: {
      type: 'object',
      properties: {
        memory_data: { type: 'object', additionalProperties: true },
        memory_type: { type: 'string', pattern: MEMORY_TYPE_PATTERN.source, maxLength: 32 },
        updated_by: { type: 'string', pattern: ACTOR_ID_PATTERN.source, maxLength: 128 },
      },
      example: { memory_data: { plan: { step: 4 }, scratch: null }, memory_type: 'shared' },
    },
  })
  @ApiOkResponse({ type: UpdatedMemoryDto })
  @ApiProblems(400, 404, 409, 412, 413, 415)
  async mergePatch(
    @Tenant() tenant: string,
    @Param('agent_id', AgentIdParamPipe) agentId: string,
    @Param('session_id', UuidParamPipe) sessionId: string,
    @MergePatchBody() patch: Record<string, unknown>,
    @IfMatchVersion() expectedVersion: number | undefined,
    @CurrentPrincipal() caller: Principal | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UpdatedMemoryDto> {
    const updated = await this.memory.mergePatch(
      tenant,
      agentId,
      sessionId,
      patch,
      expectedVersion,
      caller,
    );
    void reply.header('etag', etagOf(updated.version));
    return updated;
  }

  @Delete(':session_id')
  @RequirePermissions('memory:delete')
  @AgentIdParam()
  @ApiSessionIdParam()
  @ApiIfMatchHeader()
  @ApiOperation({
    summary: "Delete an agent's memory for a session",
    description: 'If-Match makes it conditional; a missing record is a 404.',
  })
  @ApiOkResponse({ type: DeletedMemoryDto })
  @ApiProblems(400, 404, 412)
  delete(
    @Tenant() tenant: string,
    @Param('agent_id', AgentIdParamPipe) agentId: string,
    @Param('session_id', UuidParamPipe) sessionId: string,
    @IfMatchVersion() expectedVersion: number | undefined,
    @CurrentPrincipal() caller: Principal | undefined,
  ): Promise<DeletedMemoryDto> {
    return this.memory.delete(tenant, agentId, sessionId, expectedVersion, caller);
  }
}
