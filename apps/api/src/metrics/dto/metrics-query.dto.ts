import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, MaxLength } from 'class-validator';
import { ISO_8601, MAX_ISO_8601_LENGTH } from '../../common/swagger/api-fields';

export const TIME_RANGES = ['1h', '24h', '7d'] as const;
export type TimeRange = (typeof TIME_RANGES)[number];
export const METRIC_TYPES = ['latency', 'throughput', 'errors'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];
export const USAGE_GROUPS = ['endpoint', 'user', 'day'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

export class MetricsQueryDto {
  @ApiPropertyOptional({
    enum: TIME_RANGES,
    default: '1h',
    description: '1h: one entry per minute; 24h and 7d: one entry per hour.',
  })
  @IsOptional()
  @IsIn(TIME_RANGES)
  time_range?: TimeRange;

  @ApiPropertyOptional({
    enum: METRIC_TYPES,
    description: 'Which figures each entry carries; all of them when absent.',
  })
  @IsOptional()
  @IsIn(METRIC_TYPES)
  metric_type?: MetricType;
}

export class UsageQueryDto {
  @ApiPropertyOptional({
    description: 'Start (ISO 8601); counted by whole UTC days. Default: 7 days before end_date.',
    example: '2026-11-25T00:00:00Z',
    ...ISO_8601,
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  @MaxLength(MAX_ISO_8601_LENGTH)
  start_date?: string;

  @ApiPropertyOptional({
    description: 'End (ISO 8601), inclusive of its UTC day. Default: now.',
    example: '2026-12-02T00:00:00Z',
    ...ISO_8601,
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  @MaxLength(MAX_ISO_8601_LENGTH)
  end_date?: string;

  @ApiPropertyOptional({ enum: USAGE_GROUPS, default: 'day' })
  @IsOptional()
  @IsIn(USAGE_GROUPS)
  group_by?: UsageGroup;
}
