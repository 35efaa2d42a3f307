import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { CURSOR, SUBJECT, UUID } from '../../common/swagger/api-fields';
import { MAX_PAGE_SIZE } from '../../common/pagination/page-query.dto';
import {
  EXAMPLE_CONFIG,
  EXAMPLE_METADATA,
  EXAMPLE_SESSION_ID,
  MAX_BATCH_SIZE,
  STATUS_PATTERN,
} from './session-fields';

const TIME = '2026-11-25T10:00:00.000Z';

export class CreatedSessionDto {
  @ApiProperty({ format: 'uuid', maxLength: 36, example: EXAMPLE_SESSION_ID })
  session_id!: string;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: TIME })
  created_at!: string;

  @ApiProperty({ example: 'created', pattern: STATUS_PATTERN.source, maxLength: 32 })
  status!: string;

  @ApiProperty({ description: 'Always 1 for a new session; also sent as ETag.', example: 1 })
  version!: number;
}

export class SessionDto {
  @ApiProperty({ format: 'uuid', maxLength: 36, example: EXAMPLE_SESSION_ID })
  session_id!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: EXAMPLE_CONFIG })
  session_config!: Record<string, unknown>;

  @ApiProperty({ type: 'object', additionalProperties: true, example: EXAMPLE_METADATA })
  metadata!: Record<string, unknown>;

  @ApiProperty({ example: 'running', pattern: STATUS_PATTERN.source, maxLength: 32 })
  status!: string;

  @ApiProperty({ example: 'user-42', ...SUBJECT })
  created_by!: string;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: TIME })
  created_at!: string;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: TIME })
  updated_at!: string;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: '2026-12-02T10:00:00.000Z' })
  expires_at!: string;

  @ApiProperty({ description: 'Incremented by every write; send it back in If-Match.', example: 3 })
  version!: number;
}

/** What every session write answers (PUT /sessions/{id}, PUT /sessions/{id}/status). */
export class UpdatedSessionDto {
  @ApiProperty({ format: 'uuid', maxLength: 36, example: EXAMPLE_SESSION_ID })
  session_id!: string;

  @ApiProperty({
    description: 'The status after the write.',
    example: 'running',
    pattern: STATUS_PATTERN.source,
    maxLength: 32,
  })
  status!: string;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: TIME })
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

  @ApiProperty({ format: 'date-time', maxLength: 30, example: TIME })
  deleted_at!: string;

  @ApiProperty({
    description: "The session's agent memory records, deleted in the same atomic step.",
    example: 3,
  })
  memory_records_deleted!: number;
}

export class SessionListDto {
  @ApiProperty({ type: [SessionDto], maxItems: MAX_PAGE_SIZE })
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
    ...CURSOR,
  })
  next_cursor!: string | null;
}

export class SessionStatusDto {
  @ApiProperty({ format: 'uuid', maxLength: 36, example: EXAMPLE_SESSION_ID })
  session_id!: string;

  @ApiProperty({ example: 'running', pattern: STATUS_PATTERN.source, maxLength: 32 })
  status!: string;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: TIME })
  last_updated!: string;
}

export class StatusUpdatedDto extends UpdatedSessionDto {}

/** A list of session ids in a batch answer (the ids it deleted, the ids it did not find). */
const sessionIdList = (example: string[]): ApiPropertyOptions => ({
  type: [String],
  ...UUID,
  example,
  maxItems: MAX_BATCH_SIZE,
});

export class BatchCreatedSessionsDto {
  @ApiProperty({ type: [CreatedSessionDto], maxItems: MAX_BATCH_SIZE })
  sessions!: CreatedSessionDto[];
}

export class BatchGetSessionsDto {
  @ApiProperty({ type: [SessionDto], maxItems: MAX_BATCH_SIZE })
  sessions!: SessionDto[];

  @ApiProperty(sessionIdList([]))
  missing!: string[];
}

export class BatchDeletedSessionsDto {
  @ApiProperty(sessionIdList([EXAMPLE_SESSION_ID]))
  deleted!: string[];

  @ApiProperty(sessionIdList([]))
  missing!: string[];

  @ApiProperty({
    description: 'Agent memory records of the deleted sessions, all together.',
    example: 5,
  })
  memory_records_deleted!: number;
}
