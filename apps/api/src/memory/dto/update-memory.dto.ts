import { ApiPropertyOptional } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { IsJsonObject } from '../../common/validation/json-object.validator';
import { ACTOR_ID_PATTERN, ACTOR_ID_RULE } from '../../sessions/dto/session-fields';
import {
  EXAMPLE_MEMORY_DATA,
  MEMORY_TYPE_DOC,
  MEMORY_TYPE_PATTERN,
  MEMORY_TYPE_RULE,
  type MemoryType,
} from './memory-fields';
import { Optional } from '../../common/validation/optional';

/** PUT: given fields replace the stored ones; at least memory_data or memory_type. */
export class UpdateMemoryDto {
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: EXAMPLE_MEMORY_DATA })
  @Optional()
  @IsJsonObject()
  memory_data?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: String,
    description: MEMORY_TYPE_DOC,
    pattern: MEMORY_TYPE_PATTERN.source,
    maxLength: 32,
    example: 'shared',
  })
  @Optional()
  @Matches(MEMORY_TYPE_PATTERN, { message: `memory_type ${MEMORY_TYPE_RULE}` })
  memory_type?: MemoryType;

  @ApiPropertyOptional({
    example: 'researcher-1',
    pattern: ACTOR_ID_PATTERN.source,
    maxLength: 128,
  })
  @Optional()
  @Matches(ACTOR_ID_PATTERN, { message: `updated_by ${ACTOR_ID_RULE}` })
  updated_by?: string;
}
