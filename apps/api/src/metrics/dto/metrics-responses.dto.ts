import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SUBJECT, TIMESTAMP } from '../../common/swagger/api-fields';
import { METRIC_TYPES, TIME_RANGES, USAGE_GROUPS } from './metrics-query.dto';

/** One minute (1h) or hour (24h, 7d) of the whole deployment's traffic. */
export class MetricsPointDto {
  @ApiProperty({
    example: '2026-12-02T03:04:00.000Z',
    description: 'Start of the period.',
    ...TIMESTAMP,
  })
  timestamp!: string;
  @ApiProperty({ example: 1200, description: 'Requests answered in the period, all replicas.' })
  requests!: number;
  @ApiPropertyOptional({ example: 20.0 })
  requests_per_second?: number;
  @ApiPropertyOptional({ example: 4.2, nullable: true, type: Number })
  avg_response_time_ms?: number | null;
  @ApiPropertyOptional({ example: 3.1, nullable: true, type: Number })
  p50_ms?: number | null;
  @ApiPropertyOptional({ example: 9.7, nullable: true, type: Number })
  p95_ms?: number | null;
  @ApiPropertyOptional({ example: 23.5, nullable: true, type: Number })
  p99_ms?: number | null;
  @ApiPropertyOptional({ example: 2, description: '5xx responses.' })
  errors?: number;
  @ApiPropertyOptional({ example: 15, description: '4xx responses.' })
  client_errors?: number;
  @ApiPropertyOptional({ example: 0.0017, description: '5xx / requests (0 without requests).' })
  error_rate?: number;
  @ApiPropertyOptional({ example: 0.0125, description: '4xx / requests.' })
  client_error_rate?: number;
}

export class MetricsReportDto {
  @ApiProperty({ type: [MetricsPointDto], maxItems: 168 })
  metrics!: MetricsPointDto[];
  @ApiProperty({ enum: TIME_RANGES })
  time_range!: string;
  @ApiProperty({ enum: METRIC_TYPES, nullable: true, type: String })
  metric_type!: string | null;
  @ApiProperty({ enum: ['minute', 'hour'] })
  granularity!: string;
  @ApiProperty({ example: '2026-12-02T03:05:12.345Z', ...TIMESTAMP })
  collected_at!: string;
}

export class EndpointCountDto {
  @ApiProperty({ example: 'GET /api/v1/sessions/:session_id', maxLength: 512 })
  endpoint!: string;
  @ApiProperty({ example: 420 })
  requests!: number;
}

export class UsageEntryDto {
  @ApiPropertyOptional({
    example: 'GET /api/v1/sessions/:session_id',
    description: 'group_by=endpoint',
    maxLength: 512,
  })
  endpoint?: string;
  @ApiPropertyOptional({
    example: 'orch-1',
    description: 'group_by=user (the token subject)',
    ...SUBJECT,
  })
  user_id?: string;
  @ApiPropertyOptional({
    example: '2026-12-01',
    description: 'group_by=day (UTC)',
    format: 'date',
    maxLength: 10,
  })
  date?: string;
  @ApiProperty({ example: 420 })
  requests!: number;
  @ApiPropertyOptional({ example: 1, description: '5xx responses (endpoint, day).' })
  errors?: number;
  @ApiPropertyOptional({ example: 3, description: 'Distinct users of that day (HyperLogLog).' })
  unique_users?: number;
}

export class UsageSummaryDto {
  @ApiProperty({ example: 1234 })
  total_requests!: number;
  @ApiProperty({ example: 7, description: 'Distinct token subjects (HyperLogLog, ~0.8% error).' })
  unique_users!: number;
  @ApiProperty({
    type: [EndpointCountDto],
    description: 'The five most requested endpoints.',
    maxItems: 5,
  })
  top_endpoints!: EndpointCountDto[];
}

export class UsageReportDto {
  @ApiProperty({ type: [UsageEntryDto] })
  usage_data!: UsageEntryDto[];
  @ApiProperty({ type: UsageSummaryDto })
  summary!: UsageSummaryDto;
  @ApiProperty({ enum: USAGE_GROUPS })
  group_by!: string;
  @ApiProperty({
    example: '2026-11-25',
    description: 'First UTC day counted.',
    format: 'date',
    maxLength: 10,
  })
  start_date!: string;
  @ApiProperty({
    example: '2026-12-02',
    description: 'Last UTC day counted.',
    format: 'date',
    maxLength: 10,
  })
  end_date!: string;
}
