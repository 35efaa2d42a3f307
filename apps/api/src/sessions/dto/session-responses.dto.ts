import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EXAMPLE_CONFIG, EXAMPLE_METADATA, EXAMPLE_SESSION_ID } from './session-fields';

const TIME = '2026-11-25T10:00:00.000Z';

export class CreatedSessionDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_SESSION_ID })
  session_id!: string;

  @ApiProperty({ format: 'date-time', example: TIME })
  created_at!: string;

  @ApiProperty({ example: 'created' })
  status!: string;

  @ApiProperty({ description: 'Always 1 for a new session; also sent as ETag.', example: 1 })
  version!: number;
}

export class SessionDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_SESSION_ID })
  session_id!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: EXAMPLE_CONFIG })
  session_config!: Record<string, unknown>;

  @ApiProperty({ type: 'object', additionalProperties: true, example: EXAMPLE_METADATA })
  metadata!: Record<string, unknown>;

  @ApiProperty({ example: 'running' })
  status!: string;

  @ApiProperty({ example: 'user-42' })
  created_by!: string;

  @ApiProperty({ format: 'date-time', example: TIME })
  created_at!: string;

  @ApiProperty({ format: 'date-time', example: TIME })
  updated_at!: string;

  @ApiProperty({ format: 'date-time', example: '2026-12-02T10:00:00.000Z' })
  expires_at!: string;

  @ApiProperty({ description: 'Incremented by every write; send it back in If-Match.', example: 3 })
  version!: number;
}

/** What every session write answers (PUT /sessions/{id}, PUT /sessions/{id}/status). */
export class UpdatedSessionDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_SESSION_ID })
  session_id!: string;

  @ApiProperty({ description: 'The status after the write.', example: 'running' })
  status!: string;

  @ApiProperty({ format: 'date-time', example: TIME })
  updated_at!: string;

  @ApiProperty({
    description: 'The new version, also sent as ETag; send it back in If-Match.',
    example: 4,
  })
  version!: number;
}

export class DeletedSessionDto {
  @ApiProperty({ example: true })
  deleted!: true;

  @ApiProperty({ format: 'date-time', example: TIME })
  deleted_at!: string;

  @ApiProperty({
    description: "The session's agent memory records, deleted in the same atomic step.",
    example: 3,
  })
  memory_records_deleted!: number;
}

export class SessionListDto {
  @ApiProperty({ type: [SessionDto] })
  sessions!: SessionDto[];

  @ApiProperty({
    description: 'Live sessions matching the filters (expired ones never count).',
    example: 137,
  })
  total_count!: number;

  @ApiProperty({ example: true })
  has_more!: boolean;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Pass as cursor to get the page after this one; null on the last page.',
    example: 'eyJ2IjoxLCJzIjoxNzY0MDY0ODAwMDAwLCJpIjoiM2YxYyJ9',
  })
  next_cursor!: string | null;
}

export class SessionStatusDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_SESSION_ID })
  session_id!: string;

  @ApiProperty({ example: 'running' })
  status!: string;

  @ApiProperty({ format: 'date-time', example: TIME })
  last_updated!: string;
}

export class StatusUpdatedDto extends UpdatedSessionDto {}

export class BatchCreatedSessionsDto {
  @ApiProperty({ type: [CreatedSessionDto] })
  sessions!: CreatedSessionDto[];
}

export class BatchGetSessionsDto {
  @ApiProperty({ type: [SessionDto] })
  sessions!: SessionDto[];

  @ApiProperty({ type: [String], format: 'uuid', example: [] })
  missing!: string[];
}

export class BatchDeletedSessionsDto {
  @ApiProperty({ type: [String], format: 'uuid', example: [EXAMPLE_SESSION_ID] })
  deleted!: string[];

  @ApiProperty({ type: [String], format: 'uuid', example: [] })
  missing!: string[];

  @ApiProperty({
    description: 'Agent memory records of the deleted sessions, all together.',
    example: 5,
  })
  memory_records_deleted!: number;
}
