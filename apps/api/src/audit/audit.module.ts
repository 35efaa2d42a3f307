import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller';
import { AuditRecorder } from './audit-recorder';
import { AuditRetentionSweeper } from './audit-retention.sweeper';
import { AuditSealer } from './audit-sealer';
import { AuditService } from './audit.service';
import { AuditWriter } from './audit-writer';

/**
 * The audit trail: recorded by the write scripts (in the frame RequestInterceptor opens) and the
 * recorder's hooks, read by admins.
 */
@Module({
  controllers: [AuditController],
  providers: [AuditWriter, AuditRecorder, AuditService, AuditRetentionSweeper, AuditSealer],
  exports: [AuditService, AuditWriter, AuditRecorder],
})
export class AuditModule {}
