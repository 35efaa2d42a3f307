import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RequirePermissions } from '../auth/require-permissions.decorator';
import { Tenant } from '../common/http/tenant.decorator';
import { ApiProblems } from '../common/swagger/api-problems.decorator';
import { RateLimitClass } from '../throttling/rate-limit.decorator';
import { CacheKeyPipe } from './cache-key.pipe';
import { CacheService } from './cache.service';
import { CACHE_KEY_PATTERN, EXAMPLE_CACHE_KEY, RESERVED_CACHE_KEYS } from './dto/cache-fields';
import {
  BatchGetCacheDto,
  InvalidateCacheDto,
  SetCacheEntryDto,
  SetCacheEntryQueryDto,
  UpdateCacheEntryDto,
} from './dto/cache-requests.dto';
import {
  BatchCacheEntriesDto,
  CacheDeletedDto,
  CacheEntryDto,
  CacheInvalidatedDto,
  CacheStatsDto,
  CacheUpdatedDto,
  CacheWrittenDto,
} from './dto/cache-responses.dto';

const CacheKeyParam = () =>
  ApiParam({
    name: 'cache_key',
    example: EXAMPLE_CACHE_KEY,
    schema: { type: 'string', pattern: CACHE_KEY_PATTERN.source, maxLength: 250 },
    description: `1-250 characters of A-Z a-z 0-9 . _ : -; reserved: ${RESERVED_CACHE_KEYS.join(', ')}.`,
  });

// Fixed paths (invalidate, batch-get, stats) are declared before the :cache_key routes.
@ApiTags('cache')
@Controller('cache')
export class CacheController {
  constructor(private readonly cache: CacheService) {}

  @Post('invalidate')
  @RateLimitClass('invalidation')
  @RequirePermissions('cache:invalidate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Delete entries by keys, tags and/or a key pattern',
    description:
      'Selectors combine (union). Runs in bounded steps of a few milliseconds inside Redis, so a ' +
      'pattern matching 100k entries finishes without blocking other clients. invalidated_count is ' +
      'exact; invalidated_keys lists the first 1000.',
  })
  @ApiBody({ type: InvalidateCacheDto })
  @ApiOkResponse({ type: CacheInvalidatedDto })
  @ApiProblems(400)
  invalidate(
    @Tenant() tenant: string,
    @Body() body: InvalidateCacheDto,
  ): Promise<CacheInvalidatedDto> {
    return this.cache.invalidate(tenant, body);
  }

  @Post('batch-get')
  @RateLimitClass('bulk')
  @RequirePermissions('cache:read')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Read up to 100 entries in one round trip (each key counts as a hit or a miss)',
    description: 'Keys that do not exist (or expired) are listed in missing, never an error.',
  })
  @ApiBody({ type: BatchGetCacheDto })
  @ApiOkResponse({ type: BatchCacheEntriesDto })
  @ApiProblems(400)
  getMany(@Tenant() tenant: string, @Body() body: BatchGetCacheDto): Promise<BatchCacheEntriesDto> {
    return this.cache.getMany(tenant, body);
  }

  @Get('stats')
  @RequirePermissions('cache:read')
  @ApiOperation({
    summary: "Hit and miss counters of this tenant's cache (cache_hit_ratio)",
    description: "Counted by every single and batch read of this tenant's cache, on every replica.",
  })
  @ApiOkResponse({ type: CacheStatsDto })
  @ApiProblems()
  stats(@Tenant() tenant: string): Promise<CacheStatsDto> {
    return this.cache.stats(tenant);
  }

  @Post(':cache_key')
  @RequirePermissions('cache:write')
  @CacheKeyParam()
  @ApiOperation({
    summary: 'Store an entry (create or replace, with its tags, atomically)',
    description: 'With only_if_absent=true it behaves like SET NX: 409 when a live entry exists.',
  })
  @ApiCreatedResponse({ type: CacheWrittenDto })
  @ApiProblems(400, 409, 413)
  async set(
    @Tenant() tenant: string,
    @Param('cache_key', CacheKeyPipe) key: string,
    @Body() body: SetCacheEntryDto,
    @Query() query: SetCacheEntryQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CacheWrittenDto> {
    const written = await this.cache.set(tenant, key, body, query.only_if_absent ?? false);
    void reply.header('location', `/api/v1/cache/${key}`);
    return written;
  }

  @Get(':cache_key')
  @RequirePermissions('cache:read')
  @CacheKeyParam()
  @ApiOperation({
    summary: 'Read an entry; a miss is a 404 and counts as a miss',
    description:
      'A hit returns the stored JSON value with its tags and expiry. Expired entries are never served.',
  })
  @ApiOkResponse({ type: CacheEntryDto })
  @ApiProblems(400, 404)
  get(
    @Tenant() tenant: string,
    @Param('cache_key', CacheKeyPipe) key: string,
  ): Promise<CacheEntryDto> {
    return this.cache.get(tenant, key);
  }

  @Put(':cache_key')
  @RequirePermissions('cache:write')
  @CacheKeyParam()
  @ApiOperation({
    summary: 'Replace the data and/or reset the time to live of an existing entry',
    description: 'ttl_seconds alone extends or shortens the entry; data alone keeps its expiry.',
  })
  @ApiOkResponse({ type: CacheUpdatedDto })
  @ApiProblems(400, 404, 413)
  update(
    @Tenant() tenant: string,
    @Param('cache_key', CacheKeyPipe) key: string,
    @Body() body: UpdateCacheEntryDto,
  ): Promise<CacheUpdatedDto> {
    return this.cache.update(tenant, key, body);
  }

  @Delete(':cache_key')
  @RequirePermissions('cache:delete')
  @CacheKeyParam()
  @ApiOperation({
    summary: 'Delete an entry',
    description: 'A missing or expired entry is a 404.',
  })
  @ApiOkResponse({ type: CacheDeletedDto })
  @ApiProblems(400, 404)
  delete(
    @Tenant() tenant: string,
    @Param('cache_key', CacheKeyPipe) key: string,
  ): Promise<CacheDeletedDto> {
    return this.cache.delete(tenant, key);
  }
}
