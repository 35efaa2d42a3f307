import { ApiHideProperty, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsString,
  Matches,
  MaxLength,
  Min,
} from 'class-validator';
import {
  CACHE_KEY_PATTERN,
  CACHE_KEY_RULE,
  EXAMPLE_CACHE_KEY,
  EXAMPLE_DATA,
  EXAMPLE_TAGS,
  ANY_JSON_VALUE,
  IsJsonValue,
  MAX_BATCH_GET_KEYS,
  MAX_INVALIDATE_KEYS,
  MAX_INVALIDATE_TAGS,
  MAX_TAGS_PER_ENTRY,
  RefusedAsCacheKey,
} from './cache-fields';
import { Optional } from '../../common/validation/optional';

const TTL_DESCRIPTION =
  'Time to live in seconds, between 1 and CACHE_MAX_TTL_SECONDS (default 604800).';

export class SetCacheEntryDto {
  @ApiProperty({
    ...ANY_JSON_VALUE,
    description:
      'Any JSON value (object, array, string, number, boolean or null), at most ' +
      'CACHE_MAX_VALUE_BYTES (default 1 MiB) as JSON text.',
    example: EXAMPLE_DATA,
  })
  @IsJsonValue()
  data!: unknown;

  @ApiPropertyOptional({
    description: `${TTL_DESCRIPTION} Default CACHE_DEFAULT_TTL_SECONDS (3600).`,
    example: 900,
    minimum: 1,
  })
  @Optional()
  @IsInt()
  @Min(1)
  ttl_seconds?: number;

  @ApiPropertyOptional({
    description: `Labels for bulk invalidation; at most ${MAX_TAGS_PER_ENTRY}, same alphabet as cache keys. Replacing an entry replaces its tags.`,
    type: [String],
    example: EXAMPLE_TAGS,
    maxItems: MAX_TAGS_PER_ENTRY,
    pattern: CACHE_KEY_PATTERN.source,
    maxLength: 250,
  })
  @Optional()
  @IsArray()
  @ArrayMaxSize(MAX_TAGS_PER_ENTRY)
  @Matches(CACHE_KEY_PATTERN, { each: true, message: `each tag ${CACHE_KEY_RULE}` })
  tags?: string[];
}

const toBoolean = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;

export class SetCacheEntryQueryDto {
  @ApiPropertyOptional({
    description:
      'SET NX: store only when no live entry has this key; otherwise 409 and nothing changes.',
    type: Boolean,
    default: false,
  })
  @Optional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'only_if_absent must be true or false' })
  only_if_absent?: boolean;
}

export class UpdateCacheEntryDto {
  @ApiPropertyOptional({
    ...ANY_JSON_VALUE,
    description: 'Any JSON value; replaces the data. The expiry stays unless ttl_seconds is given.',
    example: EXAMPLE_DATA,
  })
  @Optional()
  @IsJsonValue()
  data?: unknown;

  @ApiPropertyOptional({
    description: `${TTL_DESCRIPTION} Counted from now: extends or shortens the entry's life.`,
    example: 3600,
    minimum: 1,
  })
  @Optional()
  @IsInt()
  @Min(1)
  ttl_seconds?: number;
}

export class BatchGetCacheDto {
  @ApiProperty({
    type: [String],
    example: [EXAMPLE_CACHE_KEY, 'tool:search:lisbon'],
    minItems: 1,
    maxItems: MAX_BATCH_GET_KEYS,
    pattern: CACHE_KEY_PATTERN.source,
    maxLength: 250,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_GET_KEYS)
  @Matches(CACHE_KEY_PATTERN, { each: true, message: `each cache key ${CACHE_KEY_RULE}` })
  cache_keys!: string[];

  @ApiHideProperty()
  @RefusedAsCacheKey('batch-get')
  data?: unknown;
}

export class InvalidateCacheDto {
  @ApiPropertyOptional({
    type: [String],
    example: [EXAMPLE_CACHE_KEY],
    maxItems: MAX_INVALIDATE_KEYS,
    pattern: CACHE_KEY_PATTERN.source,
    maxLength: 250,
  })
  @Optional()
  @IsArray()
  @ArrayMaxSize(MAX_INVALIDATE_KEYS)
  @Matches(CACHE_KEY_PATTERN, { each: true, message: `each cache key ${CACHE_KEY_RULE}` })
  cache_keys?: string[];

  @ApiPropertyOptional({
    description: 'Deletes every live entry that currently carries any of these tags.',
    type: [String],
    example: ['session:3f1c2a9e'],
    maxItems: MAX_INVALIDATE_TAGS,
    pattern: CACHE_KEY_PATTERN.source,
    maxLength: 250,
  })
  @Optional()
  @IsArray()
  @ArrayMaxSize(MAX_INVALIDATE_TAGS)
  @Matches(CACHE_KEY_PATTERN, { each: true, message: `each tag ${CACHE_KEY_RULE}` })
  tags?: string[];

  @ApiPropertyOptional({
    description:
      "Glob over this tenant's cache keys: `*` matches any run of characters, `?` one character, " +
      'everything else is literal. At most 4 wildcards; character classes and escapes are refused.',
    example: 'llm:gpt-4o:*',
    maxLength: 250,
  })
  @Optional()
  @IsString()
  @MaxLength(250)
  pattern?: string;

  @ApiHideProperty()
  @RefusedAsCacheKey('invalidate')
  data?: unknown;
}
