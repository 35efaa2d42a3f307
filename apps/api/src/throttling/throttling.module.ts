import { Module } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { RedisThrottlerStorage } from '@app/redis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { routeClassOf } from './tenant-throttler.guard';

/** Rate limits per route class from config/rate-limits.yaml, counted in Redis. */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG, RedisThrottlerStorage, Reflector],
      useFactory: (config: AppConfig, storage: RedisThrottlerStorage, reflector: Reflector) => ({
        storage,
        throttlers: [
          {
            // One throttler whose limit depends on the route's class; 'default' keeps the standard
            // header names (X-RateLimit-Limit, Retry-After) without a suffix.
            name: 'default',
            ttl: config.rateLimits.windowSeconds * 1000,
            limit: (context) => config.rateLimits.limits[routeClassOf(context, reflector)],
          },
        ],
        errorMessage: 'Rate limit exceeded; retry after the number of seconds in Retry-After.',
      }),
    }),
  ],
})
export class ThrottlingModule {}
