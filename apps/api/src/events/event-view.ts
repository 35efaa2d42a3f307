import { ApiProperty } from '@nestjs/swagger';
import type { StoredEvent } from '@app/redis';
import { EVENT_ID, SUBJECT, TENANT, TIMESTAMP, text } from '../common/swagger/api-fields';
import { EVENT_RESOURCE_TYPES, EVENT_TYPES } from './event-types';

/** One event as subscribers and webhooks receive it. */
export class EventDto {
  @ApiProperty({
    ...EVENT_ID,
    example: '1764662400000-0',
    description: 'Ordered; resume after it with since.',
  })
  event_id!: string;

  @ApiProperty({ enum: EVENT_TYPES, example: 'session.updated' })
  type!: string;

  @ApiProperty({ ...TENANT, example: 'acme' })
  tenant!: string;

  @ApiProperty({ enum: EVENT_RESOURCE_TYPES })
  resource_type!: string;

  @ApiProperty({
    ...text(1024),
    example: '3f1c2a4e-9b7d-4c1e-8f2a-6d5b4c3a2e1f',
    description: 'Session id; `<agent_id>/<session_id>` for memory; the cache key for cache.',
  })
  resource_id!: string;

  @ApiProperty({ type: Number, nullable: true, description: 'Version after the change, if any.' })
  version!: number | null;

  @ApiProperty({ ...TIMESTAMP, example: '2026-12-02T06:00:00.000Z' })
  occurred_at!: string;

  @ApiProperty({
    ...SUBJECT,
    example: 'user-42',
    description: 'Token subject, or `system` for expiry.',
  })
  actor!: string;
}

export function toEventView(tenant: string, event: StoredEvent): EventDto {
  return {
    event_id: event.id,
    type: event.type,
    tenant,
    resource_type: event.resourceType,
    resource_id: publicResourceId(event),
    version: event.version,
    occurred_at: new Date(Number(event.id.split('-')[0])).toISOString(),
    actor: event.actor,
  };
}

/** Memory records are stored as `<encoded agent>:<session>`; the API names them `<agent>/<session>`. */
function publicResourceId(event: StoredEvent): string {
  if (event.resourceType !== 'memory') return event.resourceId;
  const sep = event.resourceId.indexOf(':');
  if (sep < 0) return event.resourceId;
  return `${decodeURIComponent(event.resourceId.slice(0, sep))}/${event.resourceId.slice(sep + 1)}`;
}

/** The agent a memory event is about (the API form), or undefined for other resources. */
export function memoryAgentOf(view: EventDto): string | undefined {
  if (view.resource_type !== 'memory') return undefined;
  const sep = view.resource_id.lastIndexOf('/');
  return sep < 0 ? undefined : view.resource_id.slice(0, sep);
}
