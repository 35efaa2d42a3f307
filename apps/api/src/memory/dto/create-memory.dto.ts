import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsUUID, Matches } from 'class-validator';
import { IsJsonObject } from '../../common/validation/json-object.validator';
import { ACTOR_ID_PATTERN, ACTOR_ID_RULE } from '../../sessions/dto/session-fields';
import {
  EXAMPLE_MEMORY_DATA,
  EXAMPLE_SESSION_ID,
  MEMORY_TYPE_DOC,
  MEMORY_TYPE_PATTERN,
  MEMORY_TYPE_RULE,
  type MemoryType,
} from './memory-fields';
import { Optional } from '../../common/validation/optional';

export class CreateMemoryDto {
  @ApiProperty({
    format: 'uuid',
    maxLength: 36,
    example: EXAMPLE_SESSION_ID,
    description: 'An existing session of your tenant.',
  })
  @IsUUID('4', { message: 'session_id must be a UUID v4' })
  session_id!: string;

  @ApiProperty({
    description: 'Any JSON object (nested at most 32 levels, at most MEMORY_MAX_BYTES).',
    type: 'object',
    additionalProperties: true,
    example: EXAMPLE_MEMORY_DATA,
  })
  @IsJsonObject()
  memory_data!: Record<string, unknown>;

  @ApiProperty({
    type: String,
    example: 'working',
    pattern: MEMORY_TYPE_PATTERN.source,
    maxLength: 32,
    description: MEMORY_TYPE_DOC,
  })
  @Matches(MEMORY_TYPE_PATTERN, { message: `memory_type ${MEMORY_TYPE_RULE}` })
  memory_type!: MemoryType;

  @ApiPropertyOptional({
    example: 'orchestrator-1',
    pattern: ACTOR_ID_PATTERN.source,
    maxLength: 128,
    description:
      "Who writes the record; default the token's sub. Only orchestrator and admin tokens may " +
      'name someone else; an agent token always records itself.',
  })
  @Optional()
  @Matches(ACTOR_ID_PATTERN, { message: `created_by ${ACTOR_ID_RULE}` })
  created_by?: string;
}
