import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, Matches, Max, MaxLength, Min } from 'class-validator';
import {
  ACTOR_ID_PATTERN,
  ACTOR_ID_RULE,
  MAX_PAGE_SIZE,
  STATUS_PATTERN,
  STATUS_RULE,
} from './session-fields';

export const SESSION_SORTS = ['created_at', '-created_at'] as const;
export type SessionSort = (typeof SESSION_SORTS)[number];

export class ListSessionsQueryDto {
  @ApiPropertyOptional({ example: 'user-42' })
  @IsOptional()
  @Matches(ACTOR_ID_PATTERN, { message: `created_by ${ACTOR_ID_RULE}` })
  created_by?: string;

  @ApiPropertyOptional({ example: 'running' })
  @IsOptional()
  @Matches(STATUS_PATTERN, { message: `status ${STATUS_RULE}` })
  status?: string;

  @ApiPropertyOptional({
    description: 'Inclusive lower bound on created_at (ISO 8601).',
    example: '2026-11-01T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  created_after?: string;

  @ApiPropertyOptional({
    description: 'Exclusive upper bound on created_at (ISO 8601).',
    example: '2026-12-01T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  created_before?: string;

  @ApiPropertyOptional({
    enum: SESSION_SORTS,
    default: '-created_at',
    description: 'Newest first by default.',
  })
  @IsOptional()
  @IsIn(SESSION_SORTS)
  sort?: SessionSort;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({
    minimum: 0,
    default: 0,
    description: 'Skip this many sessions. Not combinable with cursor.',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000_000)
  offset?: number;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page, for stable deep paging.' })
  @IsOptional()
  @MaxLength(512)
  cursor?: string;
}
