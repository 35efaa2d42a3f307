import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { createRedisClient, type RedisClient } from './connection/redis-client.factory';
import { redactRedisUrl } from './connection/redis-url';
import { RedisKeyBuilder } from './keys/redis-key-builder';
import { JsonPayloadCodec, PayloadCodec } from './payload-codec';
import { RedisHealthProbe } from './redis-health.probe';
import {
  ConfigurableRedisModule,
  REDIS_MODULE_OPTIONS,
  type RedisModuleOptions,
} from './redis.module-definition';
import { REDIS_CLIENT } from './redis.constants';
import { RedisSessionRepository } from './sessions/redis-session.repository';
import { SessionRepository } from './sessions/session.repository';
import { RedisThrottlerStorage } from './throttler/redis-throttler.storage';

@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [REDIS_MODULE_OPTIONS],
      useFactory: (options: RedisModuleOptions): RedisClient => {
        const logger = new Logger('Redis');
        const client = createRedisClient(options);
        let wasReady = false;
        client.on('ready', () => {
          wasReady = true;
          logger.log(`connected to ${redactRedisUrl(options.url)}`);
        });
        // ioredis emits 'error' on every failed reconnect; log the first of each outage only.
        client.on('error', (error: Error) => {
          if (wasReady || client.status === 'connecting') {
            logger.warn(`Redis unavailable: ${error.message}`);
            wasReady = false;
          }
        });
        return client;
      },
    },
    {
      provide: RedisKeyBuilder,
      inject: [REDIS_MODULE_OPTIONS],
      useFactory: (options: RedisModuleOptions) => new RedisKeyBuilder(options.keyPrefix),
    },
    { provide: PayloadCodec, useClass: JsonPayloadCodec },
    { provide: SessionRepository, useClass: RedisSessionRepository },
    RedisHealthProbe,
    RedisThrottlerStorage,
  ],
  exports: [SessionRepository, RedisHealthProbe, RedisThrottlerStorage],
})
export class RedisModule extends ConfigurableRedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly client: RedisClient) {
    super();
  }

  async onApplicationShutdown(): Promise<void> {
    // quit() waits for pending replies; disconnect() when Redis is already gone.
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
