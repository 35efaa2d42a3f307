import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { IsJsonObject } from '../../common/validation/json-object.validator';
import { ACTOR_ID_PATTERN, ACTOR_ID_RULE } from '../../sessions/dto/session-fields';
import { EXAMPLE_MEMORY_DATA, MEMORY_TYPES, type MemoryType } from './memory-fields';

/** PUT: given fields replace the stored ones; at least memory_data or memory_type. */
export class UpdateMemoryDto {
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: EXAMPLE_MEMORY_DATA })
  @IsOptional()
  @IsJsonObject()
  memory_data?: Record<string, unknown>;

  @ApiPropertyOptional({ enum: MEMORY_TYPES, example: 'shared' })
  @IsOptional()
  @IsIn(MEMORY_TYPES)
  memory_type?: MemoryType;

  @ApiPropertyOptional({ example: 'researcher-1', pattern: ACTOR_ID_PATTERN.source })
  @IsOptional()
  @Matches(ACTOR_ID_PATTERN, { message: `updated_by ${ACTOR_ID_RULE}` })
  updated_by?: string;
}
