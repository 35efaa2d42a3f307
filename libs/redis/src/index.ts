export { RedisModule } from './redis.module';
export type { RedisModuleOptions } from './redis.module-definition';
export {
  RedisHealthProbe,
  REDIS_SLOW_PING_MS,
  type RedisHealthReport,
  type RedisMode,
  type RedisTopology,
} from './redis-health.probe';
export { StoreUnavailableError, type StoreFailure } from './store-errors';
export type { BreakerState } from './connection/circuit-breaker';
export { parseRedisUrl, redactRedisUrl, InvalidRedisUrlError } from './connection/redis-url';
export {
  replicationScope,
  ReplicationUnconfirmedError,
  type ReplicationFrame,
} from './connection/replica-acks';
export { DEFAULT_REPLICA_ACK_TIMEOUT_MS } from './connection/redis-client.factory';
export { TENANT_PATTERN } from './keys/redis-key-builder';
export type { PurgeResult } from './purge-result';
export * from './sessions/session.repository';
export * from './memory/memory.repository';
export * from './idempotency/idempotency.repository';
export {
  PayloadReencryptor,
  InvalidReencryptionCursorError,
  type ReencryptionStep,
} from './maintenance/payload-reencryptor';
export {
  AGENT_ID_PATTERN,
  AGENT_ID_RULE,
  DEFAULT_MEMORY_TYPES,
  MEMORY_TYPE_PATTERN,
  MEMORY_TYPE_RULE,
  type MemoryType,
} from './keys/memory-keyspace';
export * from './cache/cache.repository';
export * from './api-keys/api-key.repository';
export {
  compileCacheGlob,
  InvalidCacheGlobError,
  MAX_GLOB_WILDCARDS,
  type CacheGlob,
} from './cache/cache-glob';
export { CACHE_KEY_PATTERN, CACHE_KEY_RULE } from './keys/cache-keyspace';
export { jsonByteLength } from './payload-codec';
export { parseKeyRing, InvalidEncryptionKeyError, type EncryptionKey } from './codecs/key-ring';
export { PayloadDecodeError } from './codecs/payload-decode.error';
export { RedisThrottlerStorage } from './throttler/redis-throttler.storage';
export * from './audit/audit.repository';
export { auditScope, type AuditFrame } from './audit/audit-scope';
export { AUDIT_GENESIS } from './audit/audit.lua';
export {
  instrumentRepository,
  type BreakerClient,
  type StoreObserver,
} from './observability/store-observer';
export {
  subscribeRedisCommands,
  type RedisCommandEvent,
  type RedisCommandListener,
} from './observability/redis-command-channel';
export { StoreStatisticsReader, type StoreStatistics } from './observability/store-statistics';
export * from './metrics/request-rollup.repository';
export { USAGE_RETENTION_DAYS } from './metrics/redis-request-rollup.repository';
export * from './backup/backup.repository';
export { parseBackupRecord, InvalidBackupRecordError } from './backup/backup-record';
export * from './events/events.repository';
export { SYSTEM_ACTOR } from './events/event-args';
export * from './webhooks/webhook.repository';
export * from './subjects/subject.repository';
export { subjectTag } from './subjects/redis-subject.repository';
