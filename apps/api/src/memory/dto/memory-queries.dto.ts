import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsISO8601,
  IsOptional,
  IsUUID,
  Matches,
} from 'class-validator';
import { PageQueryDto } from '../../common/pagination/page-query.dto';
import {
  AGENT_ID_PATTERN,
  AGENT_ID_RULE,
  EXAMPLE_AGENT_ID,
  EXAMPLE_SESSION_ID,
  MAX_QUERY_IDS,
  MEMORY_TYPES,
  type MemoryType,
} from './memory-fields';

const commaList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part.length > 0)
    : value;

/** GET /agents/{agent_id}/memory: same paging contract as the session list (newest first). */
export class ListAgentMemoryQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: MEMORY_TYPES })
  @IsOptional()
  @IsIn(MEMORY_TYPES)
  memory_type?: MemoryType;

  @ApiPropertyOptional({
    description: 'Inclusive lower bound on created_at (ISO 8601).',
    example: '2026-11-01T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  created_after?: string;
}

/** GET /memory/sessions/{session_id}: the paging contract every list shares. */
export class SessionMemoryQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: MEMORY_TYPES })
  @IsOptional()
  @IsIn(MEMORY_TYPES)
  memory_type?: MemoryType;
}

/** GET /memory/agents: at least one of agent_ids / session_ids (comma-separated, at most 100 each). */
export class CrossAgentMemoryQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    type: String,
    description: `Comma-separated agent ids (at most ${MAX_QUERY_IDS}).`,
    example: `${EXAMPLE_AGENT_ID},planner-1`,
  })
  @IsOptional()
  @Transform(commaList)
  @IsArray()
  @ArrayMaxSize(MAX_QUERY_IDS)
  @Matches(AGENT_ID_PATTERN, { each: true, message: `each value in agent_ids ${AGENT_ID_RULE}` })
  agent_ids?: string[];

  @ApiPropertyOptional({
    type: String,
    description: `Comma-separated session ids (UUID v4, at most ${MAX_QUERY_IDS}).`,
    example: EXAMPLE_SESSION_ID,
  })
  @IsOptional()
  @Transform(commaList)
  @IsArray()
  @ArrayMaxSize(MAX_QUERY_IDS)
  @IsUUID('4', { each: true, message: 'each value in session_ids must be a UUID v4' })
  session_ids?: string[];

  @ApiPropertyOptional({ enum: MEMORY_TYPES })
  @IsOptional()
  @IsIn(MEMORY_TYPES)
  memory_type?: MemoryType;
}
