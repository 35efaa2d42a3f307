import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { IsJsonObject } from '../../common/validation/json-object.validator';
import {
  ACTOR_ID_PATTERN,
  ACTOR_ID_RULE,
  EXAMPLE_CONFIG,
  EXAMPLE_METADATA,
  STATUS_PATTERN,
  STATUS_RULE,
} from './session-fields';

/** Given fields replace the stored ones; at least one is required. */
export class UpdateSessionDto {
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: EXAMPLE_CONFIG })
  @IsOptional()
  @IsJsonObject()
  session_config?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: EXAMPLE_METADATA })
  @IsOptional()
  @IsJsonObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ example: 'running', pattern: STATUS_PATTERN.source })
  @IsOptional()
  @Matches(STATUS_PATTERN, { message: `status ${STATUS_RULE}` })
  status?: string;
}

export class UpdateSessionStatusDto {
  @ApiProperty({ example: 'completed', pattern: STATUS_PATTERN.source })
  @Matches(STATUS_PATTERN, { message: `status ${STATUS_RULE}` })
  status!: string;

  @ApiPropertyOptional({
    description:
      "Who changed the status; default the token's sub. Only orchestrator and admin tokens may " +
      'name someone else; for other roles it is always their sub.',
    example: 'orchestrator-1',
    pattern: ACTOR_ID_PATTERN.source,
  })
  @IsOptional()
  @Matches(ACTOR_ID_PATTERN, { message: `updated_by ${ACTOR_ID_RULE}` })
  updated_by?: string;
}
