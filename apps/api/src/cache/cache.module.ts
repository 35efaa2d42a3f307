import { Module } from '@nestjs/common';
import { CacheRouteBodyLimit } from './cache-body-limit';
import { CacheExpirySweeper } from './cache-expiry.sweeper';
import { CacheController } from './cache.controller';
import { CacheService } from './cache.service';

@Module({
  controllers: [CacheController],
  providers: [CacheService, CacheExpirySweeper, CacheRouteBodyLimit],
  exports: [CacheService],
})
export class CacheModule {}
