import { Module } from '@nestjs/common';
import { SessionExpirySweeper } from './session-expiry.sweeper';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';

@Module({
  controllers: [SessionsController],
  providers: [SessionsService, SessionExpirySweeper],
  exports: [SessionsService],
})
export class SessionsModule {}
