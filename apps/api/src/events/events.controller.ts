import { Controller, Get, Headers, Query, Req, Res } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { RequirePermissions } from '../auth/require-permissions.decorator';
import { Tenant } from '../common/http/tenant.decorator';
import { ApiProblems } from '../common/swagger/api-problems.decorator';
import { EVENT_ID } from '../common/swagger/api-fields';
import { auditedRoute } from '../audit/audit-operations';
import { AuditRecorder, type AuditedRequest } from '../audit/audit-recorder';
import { AuditWriter } from '../audit/audit-writer';
import { EventsQueryDto } from './dto/events-query.dto';
import { EventDto } from './event-view';
import { EventsService } from './events.service';

@ApiTags('events')
@ApiExtraModels(EventDto)
@Controller('events')
export class EventsController {
  constructor(
    private readonly events: EventsService,
    private readonly recorder: AuditRecorder,
    private readonly writer: AuditWriter,
  ) {}

  @Get()
  @RequirePermissions('events:read')
  @ApiOperation({
    summary: 'Subscribe to the change feed (Server-Sent Events)',
    description:
      'Streams one SSE message per change of a session, memory record or cache entry of the ' +
      "caller's tenant that the caller could read: `id:` is the event id, `event:` its type, " +
      '`data:` the event as JSON. Replays from `since` (or the Last-Event-ID header) first, then ' +
      'streams live; comment lines (`: heartbeat`) keep idle connections open. A position older ' +
      'than the retention (EVENTS_RETENTION_HOURS) is refused with 410 naming the oldest ' +
      'available id.',
  })
  @ApiProduces('text/event-stream')
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Resume after this event id (sent by EventSource on reconnect).',
    schema: { type: 'string', ...EVENT_ID },
  })
  @ApiOkResponse({
    description:
      'text/event-stream; each message: `id: <event_id>`, `event: <type>`, `data: <Event JSON>`.',
    content: {
      'text/event-stream': {
        schema: { type: 'string', description: `data lines hold ${getSchemaPath(EventDto)}` },
        example:
          'id: 1764662400000-0\nevent: session.created\ndata: {"event_id":"1764662400000-0",' +
          '"type":"session.created","tenant":"acme","resource_type":"session","resource_id":' +
          '"3f1c2a4e-9b7d-4c1e-8f2a-6d5b4c3a2e1f","version":1,"occurred_at":' +
          '"2026-12-02T08:00:00.000Z","actor":"orchestrator-1"}\n\n',
      },
    },
  })
  @ApiProblems(400, 410)
  async subscribe(
    @Tenant() tenant: string,
    @CurrentPrincipal() caller: Principal,
    @Query() query: EventsQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: AuditedRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const since = await this.events.resumePosition(tenant, query, lastEventId);
    // The response never passes the audit's onSend hook: the subscription is recorded here.
    const route = auditedRoute(request.method, request.routeOptions?.url);
    if (route) {
      const record = this.recorder.body(request, route, { status: 200, error: null });
      await this.writer.append(record.tenant, JSON.stringify(record));
    }
    await this.events.stream(tenant, caller, query, since, reply);
  }
}
