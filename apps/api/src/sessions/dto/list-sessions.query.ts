import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, Matches } from 'class-validator';
import { PageQueryDto } from '../../common/pagination/page-query.dto';
import { ACTOR_ID_PATTERN, ACTOR_ID_RULE, STATUS_PATTERN, STATUS_RULE } from './session-fields';

export const SESSION_SORTS = ['created_at', '-created_at'] as const;
export type SessionSort = (typeof SESSION_SORTS)[number];

export class ListSessionsQueryDto extends PageQueryDto {
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
}
