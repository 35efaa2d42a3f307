export { RedisModule } from './redis.module';
export type { RedisModuleOptions } from './redis.module-definition';
export { RedisHealthProbe, type RedisHealthReport } from './redis-health.probe';
export { StoreUnavailableError } from './store-errors';
export { parseRedisUrl, redactRedisUrl, InvalidRedisUrlError } from './connection/redis-url';
export { TENANT_PATTERN } from './keys/redis-key-builder';
export * from './sessions/session.repository';
export { jsonByteLength } from './payload-codec';
export { RedisThrottlerStorage } from './throttler/redis-throttler.storage';
