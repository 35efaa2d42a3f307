import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsISO8601,
  IsOptional,
  IsUUID,
  Matches,
  MaxLength,
} from 'class-validator';
import { ISO_8601, MAX_ISO_8601_LENGTH, UUID } from '../../common/swagger/api-fields';
import { PageQueryDto } from '../../common/pagination/page-query.dto';
import {
  AGENT_ID_PATTERN,
  AGENT_ID_RULE,
  EXAMPLE_AGENT_ID,
  EXAMPLE_SESSION_ID,
  MAX_QUERY_IDS,
  MEMORY_TYPE_DOC,
  MEMORY_TYPE_PATTERN,
  MEMORY_TYPE_RULE,
  type MemoryType,
} from './memory-fields';

/** `?ids=a,b`, `?ids=a&ids=b` and mixes of both all give ['a', 'b']. */
const commaList = ({ value }: { value: unknown }) =>
  typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'))
    ? ([value] as (string | string[])[])
        .flat()
        .flatMap((item) => item.split(','))
        .map((part) => part.trim())
        .filter((part) => part.length > 0)
    : value;

const repeatable = (what: string, example: string[], items: Record<string, unknown>) => ({
  type: 'array' as const,
  items: { type: 'string' as const, ...items },
  maxItems: MAX_QUERY_IDS,
  style: 'form' as const,
  explode: true,
  description:
    `${what} (at most ${MAX_QUERY_IDS}). Repeat the parameter (\`?x=a&x=b\`) or separate ` +
    'values with commas (`?x=a,b`); both forms may be mixed.',
  example,
});

/** GET /agents/{agent_id}/memory: same paging contract as the session list (newest first). */
export class ListAgentMemoryQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    description: MEMORY_TYPE_DOC,
    pattern: MEMORY_TYPE_PATTERN.source,
    maxLength: 32,
  })
  @IsOptional()
  @Matches(MEMORY_TYPE_PATTERN, { message: `memory_type ${MEMORY_TYPE_RULE}` })
  memory_type?: MemoryType;

  @ApiPropertyOptional({
    description: 'Inclusive lower bound on created_at (ISO 8601).',
    example: '2026-11-01T00:00:00Z',
    ...ISO_8601,
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  @MaxLength(MAX_ISO_8601_LENGTH)
  created_after?: string;
}

/** GET /memory/sessions/{session_id}: the paging contract every list shares. */
export class SessionMemoryQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    description: MEMORY_TYPE_DOC,
    pattern: MEMORY_TYPE_PATTERN.source,
    maxLength: 32,
  })
  @IsOptional()
  @Matches(MEMORY_TYPE_PATTERN, { message: `memory_type ${MEMORY_TYPE_RULE}` })
  memory_type?: MemoryType;
}

/** GET /memory/agents: at least one of agent_ids / session_ids (comma-separated, at most 100 each). */
export class CrossAgentMemoryQueryDto extends PageQueryDto {
  @ApiPropertyOptional(
    repeatable('Agent ids', [EXAMPLE_AGENT_ID, 'planner-1'], {
      pattern: AGENT_ID_PATTERN.source,
      maxLength: 128,
    }),
  )
  @IsOptional()
  @Transform(commaList)
  @IsArray()
  @ArrayMaxSize(MAX_QUERY_IDS)
  @Matches(AGENT_ID_PATTERN, { each: true, message: `each value in agent_ids ${AGENT_ID_RULE}` })
  agent_ids?: string[];

  @ApiPropertyOptional(repeatable('Session ids (UUID v4)', [EXAMPLE_SESSION_ID], UUID))
  @IsOptional()
  @Transform(commaList)
  @IsArray()
  @ArrayMaxSize(MAX_QUERY_IDS)
  @IsUUID('4', { each: true, message: 'each value in session_ids must be a UUID v4' })
  session_ids?: string[];

  @ApiPropertyOptional({
    description: MEMORY_TYPE_DOC,
    pattern: MEMORY_TYPE_PATTERN.source,
    maxLength: 32,
  })
  @IsOptional()
  @Matches(MEMORY_TYPE_PATTERN, { message: `memory_type ${MEMORY_TYPE_RULE}` })
  memory_type?: MemoryType;
}
