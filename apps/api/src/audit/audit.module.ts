import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AuditController } from './audit.controller';
import { AuditInterceptor } from './audit.interceptor';
import { AuditRecorder } from './audit-recorder';
import { AuditRetentionSweeper } from './audit-retention.sweeper';
import { AuditSealer } from './audit-sealer';
import { AuditService } from './audit.service';
import { AuditWriter } from './audit-writer';

/** The audit trail: recorded by a global interceptor and the write scripts, read by admins. */
@Module({
  controllers: [AuditController],
  providers: [
    AuditWriter,
    AuditRecorder,
    AuditService,
    AuditRetentionSweeper,
    AuditSealer,
    { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
  ],
  exports: [AuditService, AuditWriter, AuditRecorder],
})
export class AuditModule {}
