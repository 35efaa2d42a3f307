import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { RequirePermissions } from '../auth/require-permissions.decorator';
import { RateLimitClass } from '../throttling/rate-limit.decorator';
import { Tenant } from '../common/http/tenant.decorator';
import { UuidParamPipe } from '../common/http/uuid-param.pipe';
import { ApiProblems } from '../common/swagger/api-problems.decorator';
import { ApiSessionIdParam } from '../common/swagger/api-params.decorator';
import { CrossAgentMemoryQueryDto, SessionMemoryQueryDto } from './dto/memory-queries.dto';
import { CrossAgentMemoryDto, SessionMemoryDto } from './dto/memory-responses.dto';
import { MemoryService } from './memory.service';

const VISIBILITY =
  'An agent token sees its own records plus `shared` records of sessions where it has memory itself.';

@ApiTags('memory')
@Controller('memory')
export class MemoryQueriesController {
  constructor(private readonly memory: MemoryService) {}

  @Get('sessions/:session_id')
  @RequirePermissions('memory:read')
  @ApiSessionIdParam()
  @ApiOperation({
    summary: 'Memory of every agent in a session (newest first, paged)',
    description:
      VISIBILITY +
      ' Pages like every list: limit, offset or cursor; total_count (= total_agents) is exact. ' +
      'A session that does not exist (deleted, expired) is a 404.',
  })
  @ApiOkResponse({ type: SessionMemoryDto })
  @ApiProblems(400, 404)
  forSession(
    @Tenant() tenant: string,
    @Param('session_id', UuidParamPipe) sessionId: string,
    @Query() query: SessionMemoryQueryDto,
    @CurrentPrincipal() caller: Principal | undefined,
  ): Promise<SessionMemoryDto> {
    return this.memory.forSession(tenant, sessionId, query, caller);
  }

  @Get('agents')
  // Up to 100 agents × 100 sessions per call: counted with the batch routes.
  @RateLimitClass('bulk')
  @RequirePermissions('memory:read')
  @ApiOperation({
    summary: 'Memory across agents and sessions',
    description:
      'Give agent_ids, session_ids or both (at most 100 each); both means the pairs. ' + VISIBILITY,
  })
  @ApiOkResponse({ type: CrossAgentMemoryDto })
  @ApiProblems(400)
  acrossAgents(
    @Tenant() tenant: string,
    @Query() query: CrossAgentMemoryQueryDto,
    @CurrentPrincipal() caller: Principal | undefined,
  ): Promise<CrossAgentMemoryDto> {
    return this.memory.acrossAgents(tenant, query, caller);
  }
}
