import type { RolePermissions, ScopePermissions } from '../auth/rbac-policy';
import type { ClaimPaths } from '../auth/claims-mapper';
import type { RateLimitPolicy } from '../throttling/rate-limit-policy';
import type { AppEnv } from './environment.schema';
import type { EncryptionKey } from '@app/redis';

/** The validated configuration, handed out typed and nested. Nothing else reads process.env. */
export interface AppConfig {
  env: AppEnv;
  version: string;
  http: {
    host: string;
    port: number;
    bodyLimitBytes: number;
    /** Responses from this size on are compressed (br/gzip); 0 = never. */
    compressionMinBytes: number;
    /** Fastify's trustProxy: false, true, a hop count or a list of addresses/CIDRs. */
    trustProxy: boolean | number | string[];
    /** PEM certificate chain and private key when the API terminates TLS itself. */
    tls?: { cert: Buffer; key: Buffer };
  };
  redis: {
    url: string;
    keyPrefix: string;
    commandTimeoutMs: number;
    connectTimeoutMs: number;
    evictionPolicyCheck: 'refuse' | 'warn' | 'off';
    /** REDIS_MIN_REPLICAS_ACK: replicas that must confirm each write; 0 = off. */
    minReplicasAck: number;
    replicaAckTimeoutMs: number;
    /** REDIS_READ_FROM: `replica` sends stale-tolerant reads to a replica. */
    readFrom: 'primary' | 'replica';
    replicaUrl?: string;
    /** REDIS_REPLICA_MAX_STALENESS_MS: a replica cut off from its master longer stops serving reads. */
    replicaMaxStalenessMs: number;
    /** REDIS_REPLICA_READ_TIMEOUT_MS: a replica read slower than this is answered by the primary. */
    replicaReadTimeoutMs: number;
    autoPipelining: boolean;
    /** REDIS_BREAKER_*: the circuit breaker in front of Redis; failureThreshold 0 = off. */
    breaker: {
      failureThreshold: number;
      windowMs: number;
      probeIntervalMs: number;
      probeTimeoutMs: number;
    };
  };
  sessions: {
    defaultTtlSeconds: number;
    maxTtlSeconds: number;
    maxPayloadBytes: number;
    sweepIntervalMs: number;
    /** SESSION_L1_CACHE: the in-process L1 for GET /sessions/{id}; undefined = off. */
    l1Cache?: { maxEntries: number; ttlMs: number };
  };
  memory: {
    defaultTtlSeconds: number;
    maxPayloadBytes: number;
    /** Allowed memory_type values (MEMORY_TYPES). */
    types: string[];
  };
  cache: {
    defaultTtlSeconds: number;
    maxTtlSeconds: number;
    maxValueBytes: number;
    sweepIntervalMs: number;
  };
  /** Protection of stored payloads at rest (applied by the Redis library's codec). */
  storage: { compressionMinBytes: number; encryptionKeys: EncryptionKey[] };
  logging: { level: string };
  swagger: { enabled: boolean };
  auth: {
    /** Exactly one key source is configured (checked at start-up). */
    jwtSecret?: string;
    jwtPublicKey?: string;
    jwksUri?: string;
    issuer?: string;
    audience?: string;
    rolePermissions: RolePermissions;
    /** Scope -> permissions (rbac.yaml `scopes`), for JWT scopes and API keys. */
    scopePermissions: ScopePermissions;
    /** Where the token's subject, roles, tenant and scopes are (JWT_*_CLAIM). */
    claims: ClaimPaths;
  };
  rateLimits: RateLimitPolicy;
  cors: { origins: string[] };
  audit: {
    reads: boolean;
    stdout: boolean;
    piiMasking: boolean;
    /** `fields`: names and sizes only (no values); `values`: sanitized values. */
    payloads: 'fields' | 'values';
    maxPayloadBytes: number;
    retentionDays: number;
    sweepIntervalMs: number;
    sealKey?: string;
    sealIntervalMs: number;
  };
  events: { retentionMs: number; heartbeatMs: number };
  webhooks: {
    allowPrivate: boolean;
    maxAttempts: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    timeoutMs: number;
    pollIntervalMs: number;
  };
  /** Graceful shutdown on SIGTERM (see main.ts). */
  shutdown: { delayMs: number; timeoutMs: number };
  observability: {
    metricsToken?: string;
    tenantLabel: boolean;
    flushIntervalMs: number;
    otlpEndpoint?: string;
    serviceName: string;
  };
}

/** DI token for {@link AppConfig}. */
export const APP_CONFIG = Symbol('APP_CONFIG');
