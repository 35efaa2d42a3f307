import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, Matches, MaxLength } from 'class-validator';
import { ISO_8601, MAX_ISO_8601_LENGTH } from '../../common/swagger/api-fields';
import { PageQueryDto } from '../../common/pagination/page-query.dto';
import { ACTOR_ID_PATTERN, ACTOR_ID_RULE, STATUS_PATTERN, STATUS_RULE } from './session-fields';

export const SESSION_SORTS = ['created_at', '-created_at'] as const;
export type SessionSort = (typeof SESSION_SORTS)[number];

export class ListSessionsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    example: 'user-42',
    pattern: ACTOR_ID_PATTERN.source,
    maxLength: 128,
  })
  @IsOptional()
  @Matches(ACTOR_ID_PATTERN, { message: `created_by ${ACTOR_ID_RULE}` })
  created_by?: string;

  @ApiPropertyOptional({ example: 'running', pattern: STATUS_PATTERN.source, maxLength: 32 })
  @IsOptional()
  @Matches(STATUS_PATTERN, { message: `status ${STATUS_RULE}` })
  status?: string;

  @ApiPropertyOptional({
    description: 'Inclusive lower bound on created_at (ISO 8601).',
    example: '2026-11-01T00:00:00Z',
    ...ISO_8601,
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  @MaxLength(MAX_ISO_8601_LENGTH)
  created_after?: string;

  @ApiPropertyOptional({
    description: 'Exclusive upper bound on created_at (ISO 8601).',
    example: '2026-12-01T00:00:00Z',
    ...ISO_8601,
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  @MaxLength(MAX_ISO_8601_LENGTH)
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
