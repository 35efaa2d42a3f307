import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { EncryptionKey } from './codecs/key-ring';
import type { BreakerGateOptions } from './connection/breaker-gate';
import type { RedisConnectionOptions } from './connection/redis-client.factory';
import type { L1Options } from './l1/tracked-read-cache';
import type { StoreObserver } from './observability/store-observer';

export interface RedisModuleOptions extends RedisConnectionOptions {
  /** First segment of every key, so several deployments can share one Redis. */
  keyPrefix: string;
  /**
   * Redis must not evict keys (`maxmemory-policy noeviction`): an evicted record leaves its index
   * entries behind. `refuse` stops start-up, `warn` logs an error on every connect; default warn.
   */
  evictionPolicyCheck?: 'refuse' | 'warn' | 'off';
  /** Protection of stored payloads at rest; omitted = gzip above 1 KiB, no encryption. */
  codec?: {
    compressionMinBytes?: number;
    encryptionKeys?: EncryptionKey[];
  };
  /** Age past which change events are trimmed from a tenant's stream; omitted = 24 hours. */
  eventsRetentionMs?: number;
  /**
   * In-process L1 for client reads of one session (SessionRepository.getRecent), kept coherent by
   * Redis client-side-caching invalidations; omitted = off.
   */
  sessionL1?: L1Options;
  /**
   * Circuit breaker in front of the client: after `failureThreshold` consecutive timeouts or
   * connection failures, commands fail at once until a probe PING is answered. Omitted or a
   * threshold of 0 = off.
   */
  breaker?: BreakerGateOptions;
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
