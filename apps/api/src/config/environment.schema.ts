import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  IsUrl,
  ValidateIf,
} from 'class-validator';

export const APP_ENVS = ['development', 'staging', 'production', 'test'] as const;
export type AppEnv = (typeof APP_ENVS)[number];

const toBoolean = ({ value }: { value: unknown }) =>
  value === true || value === 'true' || value === '1'
    ? true
    : value === false || value === 'false' || value === '0'
      ? false
      : value;

/**
 * Every environment variable the API reads, with its default. `.env.example` documents the same
 * list; a value that fails here stops start-up with the variable's name.
 */
export class EnvironmentVariables {
  @IsIn(APP_ENVS)
  APP_ENV: AppEnv = 'development';

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  @ValidateIf((_, value) => value !== undefined)
  @Matches(/^(redis|rediss|redis-cluster|rediss-cluster|redis-sentinel|rediss-sentinel):\/\/.+/)
  REDIS_URL?: string;

  @Matches(/^[A-Za-z0-9_-]{1,32}$/)
  REDIS_KEY_PREFIX = 'masa';

  @Type(() => Number)
  @IsInt()
  @Min(50)
  @Max(60000)
  REDIS_COMMAND_TIMEOUT_MS = 2000;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(60000)
  REDIS_CONNECT_TIMEOUT_MS = 5000;

  /** What to do when Redis may evict keys (its maxmemory-policy is not noeviction). */
  @IsIn(['refuse', 'warn', 'off'])
  REDIS_EVICTION_POLICY_CHECK: 'refuse' | 'warn' | 'off' = 'warn';

  /**
   * Circuit breaker: this many consecutive command timeouts or connection failures (within
   * REDIS_BREAKER_WINDOW_MS) make every command fail at once with 503 until Redis answers a probe
   * PING; 0 = off. Error replies (BUSY, OOM, ...) and slow but answered commands never count.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1000)
  REDIS_BREAKER_FAILURES = 5;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(600000)
  REDIS_BREAKER_WINDOW_MS = 10000;

  /** Pause between the open breaker's probe PINGs. */
  @Type(() => Number)
  @IsInt()
  @Min(50)
  @Max(60000)
  REDIS_BREAKER_PROBE_INTERVAL_MS = 1000;

  /** A probe PING slower than this counts as unanswered; at most REDIS_COMMAND_TIMEOUT_MS. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(60000)
  REDIS_BREAKER_PROBE_TIMEOUT_MS = 250;

  /** Replicas that must confirm each write (WAIT) before it is acknowledged; 0 = off. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(16)
  REDIS_MIN_REPLICAS_ACK = 0;

  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(60000)
  REDIS_WAIT_TIMEOUT_MS = 500;

  /** Where GETs by id and read-only scripts go; writes and CAS always use the primary. */
  @IsIn(['primary', 'replica'])
  REDIS_READ_FROM: 'primary' | 'replica' = 'primary';

  /** The replica to read from when REDIS_URL names a single node and REDIS_READ_FROM=replica. */
  @ValidateIf((_, value) => value !== undefined)
  @Matches(/^(redis|rediss):\/\/.+/)
  REDIS_REPLICA_URL?: string;

  /**
   * With REDIS_READ_FROM=replica: how long a replica may be cut off from its master and still serve
   * reads. Past it (and while the replica is stopped or loading) reads go to the primary.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  REDIS_REPLICA_MAX_STALENESS_MS = 5000;

  /**
   * With REDIS_READ_FROM=replica: a replica read not answered within this is answered by the
   * primary, and the replica is left until a probe finds it fit. Below REDIS_COMMAND_TIMEOUT_MS.
   */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(60000)
  REDIS_REPLICA_READ_TIMEOUT_MS = 500;

  /**
   * One write per turn of the event loop for all commands issued in it (ioredis auto-pipelining):
   * a read and its rate-limit check share a flush. Off while tracing is on (see app.module.ts).
   */
  @Transform(toBoolean)
  @IsBoolean()
  REDIS_AUTO_PIPELINING = true;

  @Type(() => Number)
  @IsInt()
  @Min(60)
  SESSION_TTL_SECONDS = 604800;

  @Type(() => Number)
  @IsInt()
  @Min(60)
  SESSION_MAX_TTL_SECONDS = 2592000;

  @Type(() => Number)
  @IsInt()
  @Min(1024)
  @Max(64 * 1024 * 1024)
  SESSION_MAX_BYTES = 256 * 1024;

  /** 0 turns the background sweeper off (lists still clean up lazily). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  SESSION_SWEEP_INTERVAL_MS = 60000;

  /**
   * In-process L1 for GET /sessions/{id}, dropped on any replica's write by Redis client-side
   * caching invalidations (README "Performance"). Off by default.
   */
  @Transform(toBoolean)
  @IsBoolean()
  SESSION_L1_CACHE = false;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  SESSION_L1_MAX_ENTRIES = 10000;

  /** Upper bound of an L1 entry's age: what a lost invalidation can cost at most. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(60_000)
  SESSION_L1_TTL_MS = 2000;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  CACHE_DEFAULT_TTL_SECONDS = 3600;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  CACHE_MAX_TTL_SECONDS = 604800;

  /**
   * Largest cache `data` (bytes of its JSON text); larger values get 413 naming `data`. Cache write
   * routes accept bodies up to max(BODY_LIMIT, this + 64 KiB of envelope), so a value just over the
   * limit gets that 413 rather than the generic body-limit one; other routes keep BODY_LIMIT.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  @Max(64 * 1024 * 1024)
  CACHE_MAX_VALUE_BYTES = 1024 * 1024;

  /** 0 turns the cache's background expiry sweeper off (invalidations still clean up lazily). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  CACHE_SWEEP_INTERVAL_MS = 60000;

  @Type(() => Number)
  @IsInt()
  @Min(1024)
  @Max(64 * 1024 * 1024)
  BODY_LIMIT = 1024 * 1024;

  /**
   * Responses of at least this many bytes are compressed (br or gzip, as the client's
   * Accept-Encoding asks); 0 turns response compression off.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(64 * 1024 * 1024)
  HTTP_COMPRESSION_MIN_BYTES = 1024;

  /**
   * Which proxies to believe for the client IP (per-IP rate limits, logs): `false` (default, the
   * socket address), `true` (any), a hop count, or comma-separated addresses/CIDRs.
   */
  @Matches(/^(true|false|\d{1,2}|[0-9a-fA-F.:/]+(,[0-9a-fA-F.:/]+)*)$/)
  TRUST_PROXY = 'false';

  /**
   * TLS termination in the API itself (for deployments without an ingress): PEM files of the
   * certificate (chain) and its private key. Both or neither. TLS 1.3 only; HTTP/2 with HTTP/1.1
   * fallback (ALPN).
   */
  @IsOptional()
  @IsString()
  TLS_CERT_FILE?: string;

  @IsOptional()
  @IsString()
  TLS_KEY_FILE?: string;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @Transform(toBoolean)
  @IsBoolean()
  SWAGGER_ENABLED = true;

  @IsOptional()
  @IsString()
  APP_VERSION?: string;

  /** HS256 secret (development and tests); at least 32 characters. */
  @IsOptional()
  @MinLength(32)
  JWT_SECRET?: string;

  /** PEM public key for RS256/ES256 tokens. */
  @IsOptional()
  @Matches(/-----BEGIN PUBLIC KEY-----/)
  JWT_PUBLIC_KEY?: string;

  /** JWKS endpoint; keys are fetched from this URL only, cached, and selected by `kid`. */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['https', 'http'] })
  JWT_JWKS_URI?: string;

  @IsOptional()
  @IsString()
  JWT_ISSUER?: string;

  @IsOptional()
  @IsString()
  JWT_AUDIENCE?: string;

  /**
   * Where the claims live in the identity provider's tokens: a claim name or a dotted path
   * (`realm_access.roles`); namespaced names with dots or slashes (`https://example.com/roles`)
   * work as written.
   */
  @Matches(/^[^\s]{1,200}$/)
  JWT_SUBJECT_CLAIM = 'sub';

  @Matches(/^[^\s]{1,200}$/)
  JWT_ROLES_CLAIM = 'roles';

  @Matches(/^[^\s]{1,200}$/)
  JWT_TENANT_CLAIM = 'tenant';

  /** Unset: scopes are not checked. Set (`scope`, `scp`): a request needs role and scope. */
  @IsOptional()
  @Matches(/^[^\s]{1,200}$/)
  JWT_SCOPES_CLAIM?: string;

  /** Role -> permission map; default config/rbac.yaml. */
  @IsOptional()
  @IsString()
  RBAC_CONFIG_PATH?: string;

  /** Rate limits per route class; default config/rate-limits.yaml. */
  @IsOptional()
  @IsString()
  RATE_LIMITS_CONFIG_PATH?: string;

  /** Stored payloads whose JSON is at least this many bytes are gzipped (0 = all). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  COMPRESSION_MIN_BYTES = 1024;

  /**
   * Key ring for encryption at rest: `id:base64key,id2:base64key` (32-byte keys). New writes use the
   * first key, reads accept all. Unset = no encryption. Checked at start-up (ConfigError names the id).
   */
  @IsOptional()
  @IsString()
  ENCRYPTION_KEYS?: string;

  /** Lifetime of an agent memory record, reset on every write. */
  @Type(() => Number)
  @IsInt()
  @Min(60)
  MEMORY_TTL_SECONDS = 2592000;

  /** Upper bound for one memory record's memory_data (bytes of its JSON). */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  @Max(64 * 1024 * 1024)
  MEMORY_MAX_BYTES = 256 * 1024;

  /** Allowed memory_type values, comma-separated (e.g. add episodic,semantic,procedural). */
  @Matches(/^[a-z][a-z0-9_-]{0,31}(,[a-z][a-z0-9_-]{0,31})*$/, {
    message:
      'MEMORY_TYPES must be comma-separated names matching ^[a-z][a-z0-9_-]{0,31}$ (no spaces)',
  })
  MEMORY_TYPES = 'working,persistent,shared';

  /** Comma-separated origins allowed by CORS; empty = no cross-origin browser access. */
  @IsOptional()
  @IsString()
  CORS_ORIGINS?: string;
  /** Also record successful reads (GET, batch-get) in the audit trail. */
  @Transform(toBoolean)
  @IsBoolean()
  AUDIT_READS = false;

  /** Also write every audit record as one JSON line on stdout, for log shippers. */
  @Transform(toBoolean)
  @IsBoolean()
  AUDIT_STDOUT = false;

  /**
   * What an audit record keeps of a request body or response: `fields` (names and JSON sizes, no
   * values: an erased data subject leaves no payload behind in the hash-chained trail, which cannot
   * be edited) or `values` (the sanitized values themselves, as the plan's audit log shows).
   */
  @IsIn(['fields', 'values'])
  AUDIT_PAYLOADS: 'fields' | 'values' = 'fields';

  /** Mask e-mail addresses, phone and card numbers inside audited payloads. */
  @Transform(toBoolean)
  @IsBoolean()
  AUDIT_PII_MASKING = true;

  /** Audited request/response data larger than this (bytes of JSON) is truncated with a marker. */
  @Type(() => Number)
  @IsInt()
  @Min(256)
  @Max(1024 * 1024)
  AUDIT_MAX_PAYLOAD_BYTES = 8192;

  /** Records older than this are trimmed by time (XTRIM MINID). The plan asks for 7 years. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  AUDIT_RETENTION_DAYS = 2557;

  /** How often the retention sweeper trims; 0 turns it off. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  AUDIT_SWEEP_INTERVAL_MS = 3600000;

  /**
   * Key of the audit seal (HMAC-SHA256 checkpoints over each tenant's chain head), at least 32
   * characters. Keep it out of Redis. Unset = no seals (the hash chain still detects edits).
   */
  @IsOptional()
  @MinLength(32)
  AUDIT_SEAL_KEY?: string;

  /** How often a tenant's chain head is sealed when it has new records. */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  AUDIT_SEAL_INTERVAL_MS = 60000;

  /**
   * After SIGTERM, how long the API keeps serving with readiness failing, so that load balancers
   * stop sending it traffic before it stops accepting connections.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(120000)
  SHUTDOWN_DELAY_MS = 5000;

  /**
   * Hard bound on the whole shutdown (delay + drain + flush); past it the process exits with 1.
   * Keep it below Kubernetes' terminationGracePeriodSeconds.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  @Max(600000)
  SHUTDOWN_TIMEOUT_MS = 25000;

  /** Bearer token Prometheus must send to GET /metrics; unset = the scrape endpoint is open. */
  @IsOptional()
  @MinLength(16)
  METRICS_TOKEN?: string;

  /** Adds a `tenant` label to the HTTP metrics (bounded only if the tenant count is). */
  @Transform(toBoolean)
  @IsBoolean()
  METRICS_TENANT_LABEL = false;

  /** How often each replica flushes its in-process request rollups to Redis. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(60000)
  METRICS_FLUSH_INTERVAL_MS = 5000;

  /** OTLP/HTTP collector, e.g. http://otel-collector:4318; unset = tracing off (no cost). */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['https', 'http'] })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  @IsString()
  OTEL_SERVICE_NAME = 'multi-agent-session-api';

  /** Change events older than this are trimmed from each tenant's stream (fractions allowed). */
  @Type(() => Number)
  @IsNumber()
  @Min(0.0001)
  @Max(24 * 365)
  EVENTS_RETENTION_HOURS = 24;

  /** How often an idle event stream (GET /events) gets a comment line, so proxies keep it open. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(300000)
  EVENTS_HEARTBEAT_MS = 15000;

  /** Allow webhook URLs that resolve to loopback, link-local or private addresses (tests, dev). */
  @Transform(toBoolean)
  @IsBoolean()
  WEBHOOK_ALLOW_PRIVATE = false;

  /** Delivery attempts of one event before it is parked in the webhook's dead-letter list. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(20)
  WEBHOOK_MAX_ATTEMPTS = 6;

  /** First retry delay; each retry doubles it (full jitter) up to WEBHOOK_BACKOFF_MAX_MS. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(600000)
  WEBHOOK_BACKOFF_BASE_MS = 1000;

  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(3600000)
  WEBHOOK_BACKOFF_MAX_MS = 300000;

  /** How long one delivery may take before it counts as failed. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(60000)
  WEBHOOK_TIMEOUT_MS = 5000;

  /** How often each replica looks for webhooks with undelivered events; 0 turns delivery off. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(60000)
  WEBHOOK_POLL_INTERVAL_MS = 1000;
}
