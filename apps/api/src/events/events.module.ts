import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { EventAccess } from './event-access';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';

/** The change feed: GET /events as Server-Sent Events over the tenants' event streams. */
@Module({
  imports: [AuditModule],
  controllers: [EventsController],
  providers: [EventsService, EventAccess],
  exports: [EventAccess],
})
export class EventsModule {}
