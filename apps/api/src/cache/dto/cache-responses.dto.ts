import { ApiProperty } from '@nestjs/swagger';
import {
  ANY_JSON_VALUE,
  CACHE_KEY_PATTERN,
  EXAMPLE_CACHE_KEY,
  EXAMPLE_DATA,
  EXAMPLE_TAGS,
  INVALIDATED_KEYS_REPORTED,
  MAX_BATCH_GET_KEYS,
  MAX_TAGS_PER_ENTRY,
} from './cache-fields';

const TIME = '2026-11-25T10:00:00.000Z';
const LATER = '2026-11-25T10:15:00.000Z';

export class CacheWrittenDto {
  @ApiProperty({ example: EXAMPLE_CACHE_KEY, pattern: CACHE_KEY_PATTERN.source, maxLength: 250 })
  cache_key!: string;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: TIME })
  cached_at!: string;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: LATER })
  expires_at!: string;
}

export class CacheEntryDto {
  @ApiProperty({ example: EXAMPLE_CACHE_KEY, pattern: CACHE_KEY_PATTERN.source, maxLength: 250 })
  cache_key!: string;

  @ApiProperty({
    ...ANY_JSON_VALUE,
    description: 'The JSON value stored, whatever its type.',
    example: EXAMPLE_DATA,
  })
  data!: unknown;

  @ApiProperty({
    type: [String],
    example: EXAMPLE_TAGS,
    maxItems: MAX_TAGS_PER_ENTRY,
    pattern: CACHE_KEY_PATTERN.source,
    maxLength: 250,
  })
  tags!: string[];

  @ApiProperty({ format: 'date-time', maxLength: 30, example: TIME })
  cached_at!: string;

  @ApiProperty({
    format: 'date-time',
    maxLength: 30,
    example: LATER,
    description: 'When the entry stops being served; refresh ahead of it to avoid a stampede.',
  })
  expires_at!: string;

  @ApiProperty({ example: true, enum: [true] })
  hit!: true;
}

export class CacheUpdatedDto {
  @ApiProperty({ example: EXAMPLE_CACHE_KEY, pattern: CACHE_KEY_PATTERN.source, maxLength: 250 })
  cache_key!: string;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: TIME })
  updated_at!: string;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: LATER })
  expires_at!: string;
}

export class CacheDeletedDto {
  @ApiProperty({ example: true })
  deleted!: true;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: TIME })
  deleted_at!: string;
}

export class CacheInvalidatedDto {
  @ApiProperty({ description: 'Exact number of live entries deleted.', example: 2 })
  invalidated_count!: number;

  @ApiProperty({
    description: 'The deleted keys, at most the first 1000 (see invalidated_keys_truncated).',
    type: [String],
    example: [EXAMPLE_CACHE_KEY, 'llm:gpt-4o:summary:77ab01cd'],
    maxItems: INVALIDATED_KEYS_REPORTED,
    pattern: CACHE_KEY_PATTERN.source,
    maxLength: 250,
  })
  invalidated_keys!: string[];

  @ApiProperty({
    description: 'True when more keys were deleted than invalidated_keys lists.',
    example: false,
  })
  invalidated_keys_truncated!: boolean;
}

export class BatchCacheEntriesDto {
  @ApiProperty({ type: [CacheEntryDto], maxItems: MAX_BATCH_GET_KEYS })
  entries!: CacheEntryDto[];

  @ApiProperty({
    type: [String],
    example: ['tool:search:lisbon'],
    maxItems: MAX_BATCH_GET_KEYS,
    pattern: CACHE_KEY_PATTERN.source,
    maxLength: 250,
  })
  missing!: string[];
}

export class CacheStatsDto {
  @ApiProperty({
    description:
      "Lookups (GET and batch-get keys) that found a live entry, this tenant's lifetime.",
    example: 930,
  })
  hits!: number;

  @ApiProperty({ example: 70 })
  misses!: number;

  @ApiProperty({ description: 'hits / (hits + misses); 0 before the first lookup.', example: 0.93 })
  hit_ratio!: number;
}
