import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Matches, Min } from 'class-validator';
import { IsJsonObject } from '../../common/validation/json-object.validator';
import {
  ACTOR_ID_PATTERN,
  ACTOR_ID_RULE,
  DEFAULT_STATUS,
  EXAMPLE_CONFIG,
  EXAMPLE_METADATA,
  MIN_SESSION_TTL_SECONDS,
  STATUS_PATTERN,
  STATUS_RULE,
} from './session-fields';
import { Optional } from '../../common/validation/optional';

export class CreateSessionDto {
  @ApiProperty({
    description: 'Orchestrator-defined configuration; any JSON object (nested at most 32 levels).',
    type: 'object',
    additionalProperties: true,
    example: EXAMPLE_CONFIG,
  })
  @IsJsonObject()
  session_config!: Record<string, unknown>;

  @ApiPropertyOptional({
    description:
      'Free-form metadata; session_config + metadata are limited to SESSION_MAX_BYTES together.',
    type: 'object',
    additionalProperties: true,
    example: EXAMPLE_METADATA,
  })
  @Optional()
  @IsJsonObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({
    description:
      'Id of the user or service the session is created for. Required for orchestrator and ' +
      "admin tokens (they act for others); other roles may leave it out: it is always the token's sub.",
    example: 'user-42',
    pattern: ACTOR_ID_PATTERN.source,
    maxLength: 128,
  })
  @Optional()
  @Matches(ACTOR_ID_PATTERN, { message: `created_by ${ACTOR_ID_RULE}` })
  created_by?: string;

  @ApiPropertyOptional({
    description: 'Orchestrator-defined status; the API enforces no lifecycle.',
    example: DEFAULT_STATUS,
    default: DEFAULT_STATUS,
    pattern: STATUS_PATTERN.source,
    maxLength: 32,
  })
  @Optional()
  @Matches(STATUS_PATTERN, { message: `status ${STATUS_RULE}` })
  status?: string;

  @ApiPropertyOptional({
    description:
      'Time to live in seconds, reset on every write. Between 60 and SESSION_MAX_TTL_SECONDS; default SESSION_TTL_SECONDS.',
    example: 86400,
    minimum: MIN_SESSION_TTL_SECONDS,
  })
  @Optional()
  @IsInt()
  @Min(MIN_SESSION_TTL_SECONDS)
  ttl_seconds?: number;
}
