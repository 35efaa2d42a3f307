import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { BackupController } from './backup.controller';
import { BackupService } from './backup.service';
import { NDJSON_CONTENT_TYPE, NdjsonBody } from './ndjson';

@Module({ controllers: [BackupController], providers: [BackupService] })
export class BackupModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /**
   * application/x-ndjson reaches the handler as the raw stream (no parseAs): an import is read line
   * by line and never buffered whole, so BODY_LIMIT does not apply; each line is bounded instead.
   */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify || fastify.hasContentTypeParser(NDJSON_CONTENT_TYPE)) return;
    fastify.addContentTypeParser(NDJSON_CONTENT_TYPE, (_request, payload, done) => {
      done(null, new NdjsonBody(payload));
    });
  }
}
