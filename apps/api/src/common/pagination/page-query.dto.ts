import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { CURSOR, CURSOR_PATTERN } from '../swagger/api-fields';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_OFFSET = 1_000_000_000;

// One message per rule, so whichever rule a value breaks first, the caller reads the whole range.
const OFFSET_RULE = { message: `offset must be an integer between 0 and ${MAX_OFFSET}` };

/**
 * A `limit` query parameter: an integer 1..max, documented and validated alike on every route that
 * takes one (pages of lists, the audit trail, audit verification).
 */
export function Limit(
  max = MAX_PAGE_SIZE,
  byDefault = DEFAULT_PAGE_SIZE,
  description?: string,
): PropertyDecorator {
  const rule = { message: `limit must be an integer between 1 and ${max}` };
  return applyDecorators(
    ApiPropertyOptional({
      minimum: 1,
      maximum: max,
      default: byDefault,
      type: 'integer',
      format: 'int32',
      ...(description === undefined ? {} : { description }),
    }),
    IsOptional(),
    Type(() => Number),
    IsInt(rule),
    Min(1, rule),
    Max(max, rule),
  );
}

/**
 * The paging contract every list shares: `limit` 1..100, `offset`, or the previous page's
 * `next_cursor` for stable deep paging (offset and cursor do not combine).
 */
export class PageQueryDto {
  @Limit()
  limit?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: MAX_OFFSET,
    default: 0,
    type: 'integer',
    format: 'int32',
    description: 'Skip this many items. Not combinable with cursor.',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt(OFFSET_RULE)
  @Min(0, OFFSET_RULE)
  @Max(MAX_OFFSET, OFFSET_RULE)
  offset?: number;

  @ApiPropertyOptional({
    description: 'next_cursor of the previous page, for stable deep paging.',
    ...CURSOR,
  })
  @IsOptional()
  @Matches(CURSOR_PATTERN, { message: 'cursor is not a cursor returned by this API' })
  cursor?: string;
}
