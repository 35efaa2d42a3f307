import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, Matches, MaxLength } from 'class-validator';
import {
  CURSOR,
  CURSOR_PATTERN,
  ISO_8601,
  MAX_ISO_8601_LENGTH,
} from '../../common/swagger/api-fields';
import { Limit } from '../../common/pagination/page-query.dto';

const PLAIN = /^[A-Za-z0-9._:@/-]{1,256}$/;
const PLAIN_RULE = 'must be 1-256 characters of A-Z a-z 0-9 . _ : @ / -';

/** A time window on the records' commit time. */
export class AuditRangeQueryDto {
  @ApiPropertyOptional({
    description: 'Inclusive lower bound on timestamp (ISO 8601).',
    example: '2026-11-01T00:00:00Z',
    ...ISO_8601,
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  @MaxLength(MAX_ISO_8601_LENGTH)
  from?: string;

  @ApiPropertyOptional({
    description: 'Exclusive upper bound on timestamp (ISO 8601).',
    example: '2026-12-01T00:00:00Z',
    ...ISO_8601,
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  @MaxLength(MAX_ISO_8601_LENGTH)
  to?: string;
}

export class AuditListQueryDto extends AuditRangeQueryDto {
  @ApiPropertyOptional({ example: 'session', pattern: '^[a-z_]{1,32}$', maxLength: 32 })
  @IsOptional()
  @Matches(/^[a-z_]{1,32}$/, { message: 'resource_type must be 1-32 characters of a-z _' })
  resource_type?: string;

  @ApiPropertyOptional({
    description: "Matches the record's resource_id or any of its resource_ids (batches).",
    example: '3f1c2a9e-8b7d-4c6e-9f01-23456789abcd',
    pattern: PLAIN.source,
    maxLength: 256,
  })
  @IsOptional()
  @Matches(PLAIN, { message: `resource_id ${PLAIN_RULE}` })
  resource_id?: string;

  @ApiPropertyOptional({
    description: 'The caller (token subject).',
    example: 'orchestrator-1',
    pattern: PLAIN.source,
    maxLength: 256,
  })
  @IsOptional()
  @Matches(PLAIN, { message: `user_id ${PLAIN_RULE}` })
  user_id?: string;

  @ApiPropertyOptional({ example: 'create', pattern: '^[a-z_]{1,32}$', maxLength: 32 })
  @IsOptional()
  @Matches(/^[a-z_]{1,32}$/, { message: 'operation must be 1-32 characters of a-z _' })
  operation?: string;

  @ApiPropertyOptional({ enum: ['true', 'false'] })
  @IsOptional()
  @IsIn(['true', 'false'])
  success?: 'true' | 'false';

  @Limit()
  limit?: number;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page.', ...CURSOR })
  @IsOptional()
  @Matches(CURSOR_PATTERN, { message: 'cursor is not a cursor returned by this API' })
  cursor?: string;
}

export const DEFAULT_VERIFY_LIMIT = 10_000;
export const MAX_VERIFY_LIMIT = 100_000;

export class AuditVerifyQueryDto extends AuditRangeQueryDto {
  @ApiPropertyOptional({
    description: 'Continue after this event_id (next_after of a call that was not complete).',
    example: '1764641243000-0',
    pattern: '^\\d{1,20}-\\d{1,20}$',
    maxLength: 41,
  })
  @IsOptional()
  @Matches(/^\d{1,20}-\d{1,20}$/, { message: 'after must be an event_id' })
  after?: string;

  @Limit(
    MAX_VERIFY_LIMIT,
    DEFAULT_VERIFY_LIMIT,
    'Most records checked by one call; continue from next_from when complete is false.',
  )
  limit?: number;
}
