import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type { AppConfig } from './app-config';
import { APP_ENVS, EnvironmentVariables, type AppEnv } from './environment.schema';
import { findConfigDir, readYamlFile } from './yaml-file';
import { parseRbacPolicy, parseScopePolicy } from '../auth/rbac-policy';
import { parseKeyRing, type EncryptionKey } from '@app/redis';
import { parseRateLimitPolicy } from '../throttling/rate-limit-policy';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Source = Record<string, string | undefined>;

/** Used outside production when REDIS_URL is unset (production refuses to start without it). */
export const DEVELOPMENT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Reads `config/<APP_ENV>.yaml` for defaults, lets the environment override them, validates the
 * result once and fails fast naming the variable. `configDir` is a parameter for tests.
 */
export function loadConfig(
  environment: Source = process.env,
  configDir = findConfigDir(),
): AppConfig {
  const appEnv = (environment.APP_ENV || 'development') as AppEnv;
  if (!APP_ENVS.includes(appEnv)) {
    throw new ConfigError(`APP_ENV must be one of ${APP_ENVS.join(', ')} (got "${appEnv}")`);
  }
  const merged: Record<string, unknown> = { ...readDefaults(configDir, appEnv) };
  for (const [name, value] of Object.entries(environment)) {
    if (value !== undefined && value !== '') merged[name] = value;
  }
  merged.APP_ENV = appEnv;

  const env = plainToInstance(EnvironmentVariables, merged, { exposeDefaultValues: true });
  const errors = validateSync(env, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) throw new ConfigError(describe(errors, merged));

  if (env.SESSION_TTL_SECONDS > env.SESSION_MAX_TTL_SECONDS) {
    throw new ConfigError('SESSION_TTL_SECONDS must not exceed SESSION_MAX_TTL_SECONDS');
  }
  if (env.CACHE_DEFAULT_TTL_SECONDS > env.CACHE_MAX_TTL_SECONDS) {
    throw new ConfigError('CACHE_DEFAULT_TTL_SECONDS must not exceed CACHE_MAX_TTL_SECONDS');
  }
  const keySources = [env.JWT_SECRET, env.JWT_PUBLIC_KEY, env.JWT_JWKS_URI].filter(
    (v) => v !== undefined,
  );
  if (keySources.length !== 1) {
    throw new ConfigError(
      'set exactly one of JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URI (token verification key)',
    );
  }
  if (env.SHUTDOWN_DELAY_MS >= env.SHUTDOWN_TIMEOUT_MS) {
    throw new ConfigError('SHUTDOWN_DELAY_MS must be shorter than SHUTDOWN_TIMEOUT_MS');
  }
  // A WAIT cut short by the command timeout reads as a dead primary, not as missing replicas.
  if (env.REDIS_MIN_REPLICAS_ACK > 0 && env.REDIS_WAIT_TIMEOUT_MS >= env.REDIS_COMMAND_TIMEOUT_MS) {
    throw new ConfigError('REDIS_WAIT_TIMEOUT_MS must be shorter than REDIS_COMMAND_TIMEOUT_MS');
  }
  if (env.REDIS_BREAKER_PROBE_TIMEOUT_MS > env.REDIS_COMMAND_TIMEOUT_MS) {
    throw new ConfigError(
      'REDIS_BREAKER_PROBE_TIMEOUT_MS must not exceed REDIS_COMMAND_TIMEOUT_MS',
    );
  }
  if (
    env.REDIS_READ_FROM === 'replica' &&
    env.REDIS_REPLICA_URL === undefined &&
    /^rediss?:\/\//.test(env.REDIS_URL ?? DEVELOPMENT_REDIS_URL)
  ) {
    throw new ConfigError(
      'REDIS_READ_FROM=replica with a single-node REDIS_URL needs REDIS_REPLICA_URL',
    );
  }
  // A deadline the command timeout beats first would never cut a replica read short.
  if (
    env.REDIS_READ_FROM === 'replica' &&
    env.REDIS_REPLICA_READ_TIMEOUT_MS >= env.REDIS_COMMAND_TIMEOUT_MS
  ) {
    throw new ConfigError(
      'REDIS_REPLICA_READ_TIMEOUT_MS must be shorter than REDIS_COMMAND_TIMEOUT_MS',
    );
  }
  if (env.APP_ENV === 'production' && env.REDIS_URL === undefined) {
    throw new ConfigError('REDIS_URL is required when APP_ENV=production');
  }

  return {
    env: env.APP_ENV,
    version: env.APP_VERSION ?? readPackageVersion(),
    http: {
      host: env.HOST,
      port: env.PORT,
      bodyLimitBytes: env.BODY_LIMIT,
      compressionMinBytes: env.HTTP_COMPRESSION_MIN_BYTES,
      trustProxy: parseTrustProxy(env.TRUST_PROXY),
      tls: loadTls(env.TLS_CERT_FILE, env.TLS_KEY_FILE),
    },
    redis: {
      url: env.REDIS_URL ?? DEVELOPMENT_REDIS_URL,
      keyPrefix: env.REDIS_KEY_PREFIX,
      commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
      connectTimeoutMs: env.REDIS_CONNECT_TIMEOUT_MS,
      evictionPolicyCheck: env.REDIS_EVICTION_POLICY_CHECK,
      minReplicasAck: env.REDIS_MIN_REPLICAS_ACK,
      replicaAckTimeoutMs: env.REDIS_WAIT_TIMEOUT_MS,
      readFrom: env.REDIS_READ_FROM,
      replicaUrl: env.REDIS_REPLICA_URL,
      replicaMaxStalenessMs: env.REDIS_REPLICA_MAX_STALENESS_MS,
      replicaReadTimeoutMs: env.REDIS_REPLICA_READ_TIMEOUT_MS,
      autoPipelining: env.REDIS_AUTO_PIPELINING,
      breaker: {
        failureThreshold: env.REDIS_BREAKER_FAILURES,
        windowMs: env.REDIS_BREAKER_WINDOW_MS,
        probeIntervalMs: env.REDIS_BREAKER_PROBE_INTERVAL_MS,
        probeTimeoutMs: env.REDIS_BREAKER_PROBE_TIMEOUT_MS,
      },
    },
    sessions: {
      defaultTtlSeconds: env.SESSION_TTL_SECONDS,
      maxTtlSeconds: env.SESSION_MAX_TTL_SECONDS,
      maxPayloadBytes: env.SESSION_MAX_BYTES,
      sweepIntervalMs: env.SESSION_SWEEP_INTERVAL_MS,
      l1Cache: env.SESSION_L1_CACHE
        ? { maxEntries: env.SESSION_L1_MAX_ENTRIES, ttlMs: env.SESSION_L1_TTL_MS }
        : undefined,
    },
    memory: {
      defaultTtlSeconds: env.MEMORY_TTL_SECONDS,
      maxPayloadBytes: env.MEMORY_MAX_BYTES,
      types: [...new Set(env.MEMORY_TYPES.split(','))],
    },
    cache: {
      defaultTtlSeconds: env.CACHE_DEFAULT_TTL_SECONDS,
      maxTtlSeconds: env.CACHE_MAX_TTL_SECONDS,
      maxValueBytes: env.CACHE_MAX_VALUE_BYTES,
      sweepIntervalMs: env.CACHE_SWEEP_INTERVAL_MS,
    },
    storage: {
      compressionMinBytes: env.COMPRESSION_MIN_BYTES,
      encryptionKeys: loadKeyRing(env.ENCRYPTION_KEYS),
    },
    logging: { level: env.LOG_LEVEL },
    swagger: { enabled: env.SWAGGER_ENABLED },
    auth: {
      jwtSecret: env.JWT_SECRET,
      jwtPublicKey: env.JWT_PUBLIC_KEY?.replace(/\\n/g, '\n'),
      jwksUri: env.JWT_JWKS_URI,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      rolePermissions: loadPolicy(
        env.RBAC_CONFIG_PATH ?? join(configDir, 'rbac.yaml'),
        parseRbacPolicy,
      ),
      scopePermissions: loadPolicy(
        env.RBAC_CONFIG_PATH ?? join(configDir, 'rbac.yaml'),
        parseScopePolicy,
      ),
      claims: {
        subject: env.JWT_SUBJECT_CLAIM,
        roles: env.JWT_ROLES_CLAIM,
        tenant: env.JWT_TENANT_CLAIM,
        scopes: env.JWT_SCOPES_CLAIM,
      },
    },
    rateLimits: loadPolicy(
      env.RATE_LIMITS_CONFIG_PATH ?? join(configDir, 'rate-limits.yaml'),
      parseRateLimitPolicy,
    ),
    cors: {
      origins: (env.CORS_ORIGINS ?? '')
        .split(',')
        .map((origin) => origin.trim())
        .filter((origin) => origin.length > 0),
    },
    audit: {
      reads: env.AUDIT_READS,
      stdout: env.AUDIT_STDOUT,
      piiMasking: env.AUDIT_PII_MASKING,
      payloads: env.AUDIT_PAYLOADS,
      maxPayloadBytes: env.AUDIT_MAX_PAYLOAD_BYTES,
      retentionDays: env.AUDIT_RETENTION_DAYS,
      sweepIntervalMs: env.AUDIT_SWEEP_INTERVAL_MS,
      sealKey: env.AUDIT_SEAL_KEY,
      sealIntervalMs: env.AUDIT_SEAL_INTERVAL_MS,
    },
    events: {
      retentionMs: Math.round(env.EVENTS_RETENTION_HOURS * 3600 * 1000),
      heartbeatMs: env.EVENTS_HEARTBEAT_MS,
    },
    webhooks: {
      allowPrivate: env.WEBHOOK_ALLOW_PRIVATE,
      maxAttempts: env.WEBHOOK_MAX_ATTEMPTS,
      backoffBaseMs: env.WEBHOOK_BACKOFF_BASE_MS,
      backoffMaxMs: env.WEBHOOK_BACKOFF_MAX_MS,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      pollIntervalMs: env.WEBHOOK_POLL_INTERVAL_MS,
    },
    shutdown: { delayMs: env.SHUTDOWN_DELAY_MS, timeoutMs: env.SHUTDOWN_TIMEOUT_MS },
    observability: {
      metricsToken: env.METRICS_TOKEN,
      tenantLabel: env.METRICS_TENANT_LABEL,
      flushIntervalMs: env.METRICS_FLUSH_INTERVAL_MS,
      otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
      serviceName: env.OTEL_SERVICE_NAME,
    },
  };
}

/** Both files or neither; read and checked as a pair now, so a bad file stops start-up. */
function loadTls(certFile?: string, keyFile?: string): { cert: Buffer; key: Buffer } | undefined {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new ConfigError('set both TLS_CERT_FILE and TLS_KEY_FILE, or neither');
  }
  const read = (file: string, variable: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new ConfigError(`${variable}: cannot read ${file} (${(error as Error).message})`);
    }
  };
  const tls = { cert: read(certFile, 'TLS_CERT_FILE'), key: read(keyFile, 'TLS_KEY_FILE') };
  try {
    createSecureContext(tls);
  } catch (error) {
    throw new ConfigError(
      `TLS_CERT_FILE / TLS_KEY_FILE are not a matching PEM certificate and key (${(error as Error).message})`,
    );
  }
  return tls;
}

/** The encryption key ring; a bad entry stops start-up naming its key id (never the key). */
function loadKeyRing(raw: string | undefined): EncryptionKey[] {
  try {
    return parseKeyRing(raw);
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
}

function parseTrustProxy(value: string): boolean | number | string[] {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',');
}

/** Reads and validates one policy file; any problem is a ConfigError naming the file. */
function loadPolicy<T>(path: string, parse: (raw: unknown, source: string) => T): T {
  const raw = readYamlFile(path);
  if (raw === undefined) throw new ConfigError(`${path} is missing`);
  try {
    return parse(raw, path);
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
}

function readDefaults(configDir: string, appEnv: AppEnv): Record<string, unknown> {
  const file = join(configDir, `${appEnv}.yaml`);
  const parsed = readYamlFile(file);
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`${file} must be a mapping of VARIABLE: value`);
  }
  // An empty YAML value (`KEY:`) means "no default", not the string "null".
  return Object.fromEntries(
    Object.entries(parsed)
      .filter(([, value]) => value !== null && value !== undefined)
      .map(([key, value]) => [key, String(value)]),
  );
}

const SECRET_VARIABLE = /SECRET|KEY|PASSWORD|TOKEN|_URL|_URI/;

function describe(errors: ValidationError[], given: Record<string, unknown>): string {
  return errors
    .map((error) => {
      const problems = Object.values(error.constraints ?? {}).join('; ');
      // Start-up errors end up in logs: never echo a secret or a connection string.
      const shown = SECRET_VARIABLE.test(error.property)
        ? '(value hidden)'
        : `(got ${JSON.stringify(given[error.property])})`;
      return `${error.property}: ${problems} ${shown}`;
    })
    .join('\n');
}

function readPackageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
