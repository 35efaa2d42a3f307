import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches, MaxLength } from 'class-validator';
import { EVENT_ID_PATTERN } from '@app/redis';
import { EVENT_ID } from '../../common/swagger/api-fields';
import { EVENT_RESOURCE_TYPES, EVENT_TYPES, type EventResourceType } from '../event-types';

/** Every known type once, comma-separated: the longest list worth sending. */
const MAX_TYPES_LENGTH = EVENT_TYPES.join(',').length;

const TYPE_LIST = new RegExp(`^(${EVENT_TYPES.join('|')})(,(${EVENT_TYPES.join('|')}))*$`);

export class EventsQueryDto {
  @ApiPropertyOptional({
    description: `Comma-separated event types to receive (default: all). Known: ${EVENT_TYPES.join(', ')}.`,
    example: 'session.created,memory.patched',
    pattern: TYPE_LIST.source,
    maxLength: MAX_TYPES_LENGTH,
  })
  @IsOptional()
  @MaxLength(MAX_TYPES_LENGTH)
  @Matches(TYPE_LIST, {
    message: `types must be a comma-separated list of ${EVENT_TYPES.join(', ')}`,
  })
  types?: string;

  @ApiPropertyOptional({ enum: EVENT_RESOURCE_TYPES })
  @IsOptional()
  @IsIn(EVENT_RESOURCE_TYPES)
  resource_type?: EventResourceType;

  @ApiPropertyOptional({
    description:
      'Only events of this resource: a session id, `<agent_id>/<session_id>` for memory, a cache key.',
    maxLength: 512,
  })
  @IsOptional()
  @MaxLength(512)
  resource_id?: string;

  @ApiPropertyOptional({
    description:
      'Replay every event after this event id, then stream live (the Last-Event-ID header does ' +
      'the same and wins when both are sent). Without it the stream starts with the next change.',
    example: '1764662400000-0',
    ...EVENT_ID,
  })
  @IsOptional()
  @Matches(EVENT_ID_PATTERN, { message: 'since must be an event id like 1764662400000-0' })
  since?: string;
}
