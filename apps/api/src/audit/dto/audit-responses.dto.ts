import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CURSOR, TIMESTAMP } from '../../common/swagger/api-fields';
import { ANY_JSON_VALUE } from '../../cache/dto/cache-fields';
import { MAX_PAGE_SIZE } from '../../common/pagination/page-query.dto';

/** Redis stream entry ids (`<ms>-<seq>`). */
const EVENT_ID = '^\\d{1,20}-\\d{1,20}$';

export class AuditRecordDto {
  @ApiProperty({
    example: '1764641243000-0',
    description: 'Stream entry id; orders the trail.',
    pattern: EVENT_ID,
    maxLength: 41,
  })
  event_id!: string;
  @ApiProperty({ example: 42, description: "Position in the tenant's hash chain (1, 2, 3...)." })
  sequence!: number;
  @ApiProperty({ example: '2026-12-02T02:07:23.000Z', ...TIMESTAMP })
  timestamp!: string;
  @ApiProperty({ example: 'create', maxLength: 32 })
  operation!: string;
  @ApiProperty({ example: 'session', maxLength: 32 })
  resource_type!: string;
  @ApiProperty({ type: String, nullable: true, maxLength: 256 })
  resource_id!: string | null;
  @ApiProperty({
    type: [String],
    description: 'Every id a batch touched.',
    maxItems: 1000,
    maxLength: 256,
  })
  resource_ids!: string[];
  @ApiProperty({ type: String, nullable: true, example: 'orchestrator-1', maxLength: 128 })
  user_id!: string | null;
  @ApiProperty({ example: 'default', maxLength: 63 })
  tenant!: string;
  @ApiProperty({ type: [String], example: ['orchestrator'], maxItems: 32, maxLength: 64 })
  roles!: string[];
  @ApiProperty({ maxLength: 128 })
  request_id!: string;
  @ApiProperty({ example: 'POST', maxLength: 16 })
  method!: string;
  @ApiProperty({ example: '/api/v1/sessions', maxLength: 8192 })
  route!: string;
  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7', maxLength: 64 })
  ip_address!: string | null;
  @ApiProperty({ type: String, nullable: true, maxLength: 512 })
  user_agent!: string | null;
  @ApiProperty({
    ...ANY_JSON_VALUE,
    description: 'Sanitized request payload (secrets redacted, PII masked, capped).',
  })
  request_data!: unknown;
  @ApiProperty({
    ...ANY_JSON_VALUE,
    description: 'What the write committed (ids, version) or the sanitized answer.',
  })
  response_data!: unknown;
  @ApiProperty()
  success!: boolean;
  @ApiProperty({ example: 201 })
  status_code!: number;
  @ApiProperty({ type: String, nullable: true, maxLength: 65536 })
  error!: string | null;
  @ApiProperty({ example: 3.2 })
  duration_ms!: number;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'From the W3C traceparent header.',
    pattern: '^[0-9a-f]{32}$',
    maxLength: 32,
  })
  trace_id!: string | null;
  @ApiProperty({ description: 'Appended by the write script itself, atomically with the change.' })
  committed_with_change!: boolean;
  @ApiProperty({ maxLength: 128 })
  prev_hash!: string;
  @ApiProperty({ maxLength: 128 })
  hash!: string;
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditRecordDto], maxItems: MAX_PAGE_SIZE })
  audit_records!: AuditRecordDto[];
  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'Pass as cursor for the next page; null at the end. A filtered page may hold fewer than ' +
      'limit records (each page scans a bounded number of entries) and still have a next_cursor.',
    ...CURSOR,
  })
  next_cursor!: string | null;
}

export class AuditBreakDto {
  @ApiProperty({ pattern: EVENT_ID, maxLength: 41 })
  event_id!: string;
  @ApiProperty()
  sequence!: number;
  @ApiProperty({
    enum: ['hash_mismatch', 'chain_broken', 'sequence_gap', 'head_mismatch', 'seal_mismatch'],
  })
  reason!: string;
}

export class AuditVerificationDto {
  @ApiProperty()
  verified!: boolean;
  @ApiProperty()
  records_checked!: number;
  @ApiProperty({ type: AuditBreakDto, nullable: true })
  first_break!: AuditBreakDto | null;
  @ApiProperty({
    description: 'False when limit stopped the walk; continue with after=next_after.',
  })
  complete!: boolean;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Last event_id checked.',
    pattern: EVENT_ID,
    maxLength: 41,
  })
  next_after!: string | null;
  @ApiProperty({ description: 'Keyed checkpoints checked (0 without AUDIT_SEAL_KEY).' })
  seals_checked!: number;
}
