import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { EncryptionKey } from './codecs/key-ring';
import type { RedisConnectionOptions } from './connection/redis-client.factory';
import type { StoreObserver } from './observability/store-observer';

export interface RedisModuleOptions extends RedisConnectionOptions {
  /** First segment of every key, so several deployments can share one Redis. */
  keyPrefix: string;
  /** Protection of stored payloads at rest; omitted = gzip above 1 KiB, no encryption. */
  codec?: {
    compressionMinBytes?: number;
    encryptionKeys?: EncryptionKey[];
  };
  /** Receives every repository call's timing and outcome (the metrics module); omitted = none. */
  observer?: StoreObserver;
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
