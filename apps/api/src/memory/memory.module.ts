import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { MERGE_PATCH_CONTENT_TYPE } from './merge-patch-body.decorator';
import { MemoryExpirySweeper } from './memory-expiry.sweeper';
import { MemoryQueriesController } from './memory-queries.controller';
import { MemoryController } from './memory.controller';
import { MemoryService } from './memory.service';

@Module({
  // The query controller first: /memory/... never collides with /agents/..., but keep static first.
  controllers: [MemoryQueriesController, MemoryController],
  providers: [MemoryService, MemoryExpirySweeper],
})
export class MemoryModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /**
   * PATCH takes application/merge-patch+json (RFC 7396). Parsed by Fastify's own JSON parser with
   * the same poisoning rules as application/json (`__proto__` / `constructor.prototype` refused).
   */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify || fastify.hasContentTypeParser(MERGE_PATCH_CONTENT_TYPE)) return;
    fastify.addContentTypeParser(
      MERGE_PATCH_CONTENT_TYPE,
      { parseAs: 'string' },
      fastify.getDefaultJsonParser('error', 'error'),
    );
  }
}
