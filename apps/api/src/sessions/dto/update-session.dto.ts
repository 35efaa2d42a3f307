import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { Matches, ValidateNested } from 'class-validator';
import { IsJsonObject } from '../../common/validation/json-object.validator';
import {
  ACTOR_ID_PATTERN,
  ACTOR_ID_RULE,
  EXAMPLE_CONFIG,
  EXAMPLE_METADATA,
  STATUS_PATTERN,
  STATUS_RULE,
} from './session-fields';
import { Optional } from '../../common/validation/optional';

const MERGE_RULE =
  'Merged into the stored object by RFC 7396 rules: keys given replace (objects merge ' +
  'recursively), keys set to null are removed, keys not given are kept.';

/** The plan's `updates`: partial updates, each object merged into the stored one. */
export class SessionUpdatesDto {
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: MERGE_RULE,
    example: { max_turns: 30, draft: null },
  })
  @Optional()
  @IsJsonObject()
  session_config?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: MERGE_RULE,
    example: { priority: 'low' },
  })
  @Optional()
  @IsJsonObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ example: 'running', pattern: STATUS_PATTERN.source, maxLength: 32 })
  @Optional()
  @Matches(STATUS_PATTERN, { message: `status ${STATUS_RULE}` })
  status?: string;
}

/**
 * PUT /sessions/{id}. The plan's form is `{"updates": {...}}` (merge). The top-level fields are an
 * alias kept for clients written before it: there a given object replaces the stored one whole.
 * One form per request.
 */
export class UpdateSessionDto {
  @ApiPropertyOptional({
    type: SessionUpdatesDto,
    description:
      "The plan's form: partial updates. session_config and metadata merge (RFC 7396); status " +
      'replaces.',
  })
  @Optional()
  @IsJsonObject()
  @ValidateNested()
  @Type(() => SessionUpdatesDto)
  updates?: SessionUpdatesDto;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: EXAMPLE_CONFIG,
    description: 'Alias form (not with `updates`): replaces the stored session_config whole.',
  })
  @Optional()
  @IsJsonObject()
  session_config?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: EXAMPLE_METADATA,
    description: 'Alias form (not with `updates`): replaces the stored metadata whole.',
  })
  @Optional()
  @IsJsonObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({
    example: 'running',
    pattern: STATUS_PATTERN.source,
    maxLength: 32,
    description: 'Alias form (not with `updates`).',
  })
  @Optional()
  @Matches(STATUS_PATTERN, { message: `status ${STATUS_RULE}` })
  status?: string;
}

export class UpdateSessionStatusDto {
  @ApiProperty({ example: 'completed', pattern: STATUS_PATTERN.source, maxLength: 32 })
  @Matches(STATUS_PATTERN, { message: `status ${STATUS_RULE}` })
  status!: string;

  @ApiPropertyOptional({
    description:
      "Who changed the status; default the token's sub. Only orchestrator and admin tokens may " +
      'name someone else; for other roles it is always their sub.',
    example: 'orchestrator-1',
    pattern: ACTOR_ID_PATTERN.source,
    maxLength: 128,
  })
  @Optional()
  @Matches(ACTOR_ID_PATTERN, { message: `updated_by ${ACTOR_ID_RULE}` })
  updated_by?: string;
}
