import { Inject, Injectable } from '@nestjs/common';
import {
  CacheRepository,
  compileCacheGlob,
  InvalidCacheGlobError,
  jsonByteLength,
  type CacheEntry,
  type CacheGlob,
} from '@app/redis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import {
  ConflictError,
  InvalidRequestError,
  PayloadTooLargeError,
  ResourceNotFoundError,
} from '../common/errors/domain-errors';
import { INVALIDATED_KEYS_REPORTED } from './dto/cache-fields';
import type {
  BatchGetCacheDto,
  InvalidateCacheDto,
  SetCacheEntryDto,
  UpdateCacheEntryDto,
} from './dto/cache-requests.dto';
import type {
  BatchCacheEntriesDto,
  CacheDeletedDto,
  CacheEntryDto,
  CacheInvalidatedDto,
  CacheStatsDto,
  CacheUpdatedDto,
  CacheWrittenDto,
} from './dto/cache-responses.dto';
import { isoTime } from '../common/http/iso-time';

/** The key/value cache on top of CacheRepository: limits that need config, mapping, errors. */
@Injectable()
export class CacheService {
  private readonly limits: AppConfig['cache'];

  constructor(
    private readonly cache: CacheRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.limits = config.cache;
  }

  async set(
    tenant: string,
    key: string,
    input: SetCacheEntryDto,
    onlyIfAbsent: boolean,
  ): Promise<CacheWrittenDto> {
    const ttlSeconds = this.ttl(input.ttl_seconds) ?? this.limits.defaultTtlSeconds;
    this.checkSize(input.data);
    const outcome = await this.cache.set(tenant, {
      key,
      data: input.data,
      ttlSeconds,
      tags: [...new Set(input.tags ?? [])],
      onlyIfAbsent,
    });
    if (outcome.kind === 'exists') {
      throw new ConflictError(
        `cache entry ${key} already exists (expires at ${isoTime(outcome.expiresAt)}); only_if_absent=true stored nothing`,
      );
    }
    return {
      cache_key: key,
      cached_at: isoTime(outcome.cachedAt),
      expires_at: isoTime(outcome.expiresAt),
    };
  }

  async get(tenant: string, key: string): Promise<CacheEntryDto> {
    const entry = await this.cache.get(tenant, key);
    if (!entry) throw new ResourceNotFoundError('cache entry', key);
    return toEntryDto(entry);
  }

  async getMany(tenant: string, { cache_keys }: BatchGetCacheDto): Promise<BatchCacheEntriesDto> {
    const keys = [...new Set(cache_keys)];
    const found = await this.cache.getMany(tenant, keys);
    return {
      entries: found.filter((e): e is CacheEntry => e !== null).map(toEntryDto),
      missing: keys.filter((_, i) => found[i] === null),
    };
  }

  async update(tenant: string, key: string, input: UpdateCacheEntryDto): Promise<CacheUpdatedDto> {
    if (input.data === undefined && input.ttl_seconds === undefined) {
      throw InvalidRequestError.field('body', 'give at least one of data, ttl_seconds');
    }
    const ttlSeconds = this.ttl(input.ttl_seconds);
    if (input.data !== undefined) this.checkSize(input.data);
    const outcome = await this.cache.update(tenant, key, { data: input.data, ttlSeconds });
    if (outcome.kind === 'not_found') throw new ResourceNotFoundError('cache entry', key);
    return {
      cache_key: key,
      updated_at: isoTime(outcome.updatedAt),
      expires_at: isoTime(outcome.expiresAt),
    };
  }

  async delete(tenant: string, key: string): Promise<CacheDeletedDto> {
    const result = await this.cache.delete(tenant, [key]);
    if (result.deleted.length === 0) throw new ResourceNotFoundError('cache entry', key);
    return { deleted: true, deleted_at: isoTime(result.deletedAt) };
  }

  async invalidate(tenant: string, input: InvalidateCacheDto): Promise<CacheInvalidatedDto> {
    if (!input.cache_keys?.length && !input.tags?.length && input.pattern === undefined) {
      throw InvalidRequestError.field('body', 'give at least one of cache_keys, tags, pattern');
    }
    const result = await this.cache.invalidate(
      tenant,
      {
        keys: input.cache_keys,
        tags: input.tags,
        pattern: input.pattern === undefined ? undefined : glob(input.pattern),
      },
      INVALIDATED_KEYS_REPORTED,
    );
    return {
      invalidated_count: result.count,
      invalidated_keys: result.keys,
      invalidated_keys_truncated: result.count > result.keys.length,
    };
  }

  async stats(tenant: string): Promise<CacheStatsDto> {
    const { hits, misses } = await this.cache.stats(tenant);
    const lookups = hits + misses;
    return { hits, misses, hit_ratio: lookups === 0 ? 0 : hits / lookups };
  }

  private ttl(ttlSeconds: number | undefined): number | undefined {
    if (ttlSeconds !== undefined && ttlSeconds > this.limits.maxTtlSeconds) {
      throw InvalidRequestError.field(
        'ttl_seconds',
        `must not be greater than ${this.limits.maxTtlSeconds} (CACHE_MAX_TTL_SECONDS)`,
      );
    }
    return ttlSeconds;
  }

  private checkSize(data: unknown): void {
    const bytes = jsonByteLength(data);
    if (bytes > this.limits.maxValueBytes) {
      throw new PayloadTooLargeError(['data'], bytes, this.limits.maxValueBytes);
    }
  }
}

function glob(pattern: string): CacheGlob {
  try {
    return compileCacheGlob(pattern);
  } catch (error) {
    if (error instanceof InvalidCacheGlobError)
      throw InvalidRequestError.field('pattern', error.message);
    throw error;
  }
}

export function toEntryDto(entry: CacheEntry): CacheEntryDto {
  return {
    cache_key: entry.key,
    data: entry.data,
    tags: entry.tags,
    cached_at: isoTime(entry.cachedAt),
    expires_at: isoTime(entry.expiresAt),
    hit: true,
  };
}
