import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { IsJsonObject } from '../../common/validation/json-object.validator';
import { ACTOR_ID_PATTERN, ACTOR_ID_RULE } from '../../sessions/dto/session-fields';
import {
  EXAMPLE_MEMORY_DATA,
  MEMORY_TYPE_DOC,
  MEMORY_TYPE_PATTERN,
  MEMORY_TYPE_RULE,
  type MemoryType,
} from './memory-fields';

/** PUT: given fields replace the stored ones; at least memory_data or memory_type. */
export class UpdateMemoryDto {
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: EXAMPLE_MEMORY_DATA })
  @IsOptional()
  @IsJsonObject()
  memory_data?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: String,
    description: MEMORY_TYPE_DOC,
    pattern: MEMORY_TYPE_PATTERN.source,
    example: 'shared',
  })
  @IsOptional()
  @Matches(MEMORY_TYPE_PATTERN, { message: `memory_type ${MEMORY_TYPE_RULE}` })
  memory_type?: MemoryType;

  @ApiPropertyOptional({ example: 'researcher-1', pattern: ACTOR_ID_PATTERN.source })
  @IsOptional()
  @Matches(ACTOR_ID_PATTERN, { message: `updated_by ${ACTOR_ID_RULE}` })
  updated_by?: string;
}
