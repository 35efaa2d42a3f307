import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  EXAMPLE_AGENT_ID,
  EXAMPLE_MEMORY_DATA,
  EXAMPLE_MEMORY_ID,
  EXAMPLE_SESSION_ID,
  EXAMPLE_TIME,
  MEMORY_TYPE_DOC,
  type MemoryType,
} from './memory-fields';

export class CreatedMemoryDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_MEMORY_ID })
  memory_id!: string;

  @ApiProperty({ example: EXAMPLE_AGENT_ID })
  agent_id!: string;

  @ApiProperty({ format: 'uuid', example: EXAMPLE_SESSION_ID })
  session_id!: string;

  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME })
  created_at!: string;

  @ApiProperty({ description: 'Always 1 for a new record; also sent as ETag.', example: 1 })
  version!: number;
}

export class MemoryRecordDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_MEMORY_ID })
  memory_id!: string;

  @ApiProperty({ example: EXAMPLE_AGENT_ID })
  agent_id!: string;

  @ApiProperty({ format: 'uuid', example: EXAMPLE_SESSION_ID })
  session_id!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: EXAMPLE_MEMORY_DATA })
  memory_data!: Record<string, unknown>;

  @ApiProperty({ type: String, description: MEMORY_TYPE_DOC, example: 'working' })
  memory_type!: MemoryType;

  @ApiProperty({ example: 'orchestrator-1' })
  created_by!: string;

  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME })
  created_at!: string;

  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME })
  updated_at!: string;

  @ApiProperty({
    format: 'date-time',
    example: '2026-12-02T10:00:00.000Z',
    description:
      'When the record disappears: MEMORY_TTL_SECONDS after its last write, or when its session ' +
      'expires, whichever comes first.',
  })
  expires_at!: string;

  @ApiProperty({ description: 'Incremented by every write; send it back in If-Match.', example: 2 })
  version!: number;
}

export class UpdatedMemoryDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_MEMORY_ID })
  memory_id!: string;

  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME })
  updated_at!: string;

  @ApiProperty({
    description: 'The new version, also sent as ETag; send it back in If-Match.',
    example: 3,
  })
  version!: number;
}

export class DeletedMemoryDto {
  @ApiProperty({ example: true })
  deleted!: true;

  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIME })
  deleted_at!: string;
}

/** The paging members every list carries (sessions, memory, cross-agent queries). */
export class MemoryPageFieldsDto {
  @ApiProperty({
    description: 'Live records matching the filters (expired ones never count).',
    example: 12,
  })
  total_count!: number;

  @ApiProperty({ description: 'True when another page follows this one.', example: false })
  has_more!: boolean;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Pass as cursor to get the page after this one; null on the last page.',
    example: null,
  })
  next_cursor!: string | null;
}

export class AgentMemoryListDto extends MemoryPageFieldsDto {
  @ApiProperty({ type: [MemoryRecordDto] })
  memory_records!: MemoryRecordDto[];
}

export class SessionMemoryDto extends MemoryPageFieldsDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_SESSION_ID })
  session_id!: string;

  @ApiProperty({ type: [MemoryRecordDto], description: 'Newest first, at most `limit`.' })
  agent_memories!: MemoryRecordDto[];

  @ApiProperty({
    description:
      "Agents with (visible, live) memory in the session: the plan's name for total_count.",
    example: 3,
  })
  total_agents!: number;
}

export class CrossAgentMemoryDto extends MemoryPageFieldsDto {
  @ApiProperty({ type: [MemoryRecordDto], description: 'Newest first, at most `limit`.' })
  memory_records!: MemoryRecordDto[];
}
