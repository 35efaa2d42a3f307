import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { RedisConnectionOptions } from './connection/redis-client.factory';

export interface RedisModuleOptions extends RedisConnectionOptions {
  /** First segment of every key, so several deployments can share one Redis. */
  keyPrefix: string;
}

export const {
  ConfigurableModuleClass: ConfigurableRedisModule,
  MODULE_OPTIONS_TOKEN: REDIS_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<RedisModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
