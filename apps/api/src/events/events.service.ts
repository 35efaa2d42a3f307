import { HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { compareEventIds, EVENT_ID_PATTERN, EventsRepository } from '@app/redis';
import type { Principal } from '../auth/principal';
import { InvalidRequestError } from '../common/errors/domain-errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EventAccess } from './event-access';
import { EventStream } from './event-stream';
import type { EventsQueryDto } from './dto/events-query.dto';

/**
 * Opens change-feed subscriptions. Everything that can refuse one (a bad Last-Event-ID, a position
 * lost to retention, Redis down) is checked before the first byte, so a refusal is still a
 * problem+json; once the stream has started, a failure ends it and the client resumes by id.
 */
@Injectable()
export class EventsService {
  private readonly open = new Set<EventStream>();

  constructor(
    private readonly events: EventsRepository,
    private readonly access: EventAccess,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    adapterHost: HttpAdapterHost,
  ) {
    const fastify = adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    // Open streams would hold the listener's close (and so a graceful shutdown) for ever.
    if (fastify && typeof fastify.addHook === 'function') {
      fastify.addHook('preClose', (done) => {
        for (const stream of this.open) stream.end();
        done();
      });
    }
  }

  /** The resume position of a request, checked against what the stream still holds. */
  async resumePosition(
    tenant: string,
    query: EventsQueryDto,
    lastEventId: string | undefined,
  ): Promise<string | undefined> {
    if (lastEventId !== undefined && !EVENT_ID_PATTERN.test(lastEventId)) {
      throw InvalidRequestError.field('Last-Event-ID', 'must be an event id like 1764662400000-0');
    }
    const since = lastEventId ?? query.since;
    if (since === undefined) return undefined;
    const bounds = await this.events.bounds(tenant);
    const oldest = bounds.first ?? bounds.last;
    // Entries after `since` were trimmed: replaying from it would silently skip changes.
    if (bounds.trimmed > 0 && compareEventIds(since, oldest) < 0) {
      throw new HttpException(
        {
          message:
            `Events after ${since} are no longer retained (EVENTS_RETENTION_HOURS); the oldest ` +
            `available is ${oldest}. Resync from the resources, then subscribe without since.`,
          oldest_available_id: oldest,
        },
        HttpStatus.GONE,
      );
    }
    return since;
  }

  /** Takes over the response and streams until the client leaves or the process shuts down. */
  async stream(
    tenant: string,
    caller: Principal,
    query: EventsQueryDto,
    since: string | undefined,
    reply: FastifyReply,
  ): Promise<void> {
    const visible = this.access.visibleTo(caller, {
      types: query.types === undefined ? undefined : new Set(query.types.split(',')),
      resourceType: query.resource_type,
      resourceId: query.resource_id,
    });
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // Nginx and similar proxies would otherwise hold events back in their buffers.
      'x-accel-buffering': 'no',
    });
    const stream = new EventStream(raw, this.events, {
      tenant,
      since,
      visible,
      heartbeatMs: this.config.events.heartbeatMs,
    });
    this.open.add(stream);
    raw.once('close', () => this.open.delete(stream));
    try {
      await stream.start();
    } catch {
      // Headers are gone: the client sees the stream end and resumes from its last id.
      stream.end();
    }
  }
}
