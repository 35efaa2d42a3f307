/**
 * What the benchmarks that start the built API share: a private redis-server with one stored
 * session, rate limits raised so nothing is refused, and the API's production environment.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRedisClient, type RedisClient } from '@app/redis/connection/redis-client.factory';
import { RedisKeyBuilder } from '@app/redis/keys/redis-key-builder';
import { JsonPayloadCodec } from '@app/redis/payload-codec';
import { RedisSessionRepository } from '@app/redis/sessions/redis-session.repository';
import { RedisServer } from '../../test/support/redis-server';
import { tokenFor, TEST_JWT_SECRET } from '../../test/support/test-app';

export const BENCH_PREFIX = 'masa';
export const BENCH_METRICS_TOKEN = 'bench-metrics-token-0123456789abcdef';
/** The session body every create scenario sends (and the seeded session holds). */
export const BENCH_SESSION_BODY = {
  session_config: { agents: ['planner', 'researcher'] },
  metadata: { a: 1 },
  created_by: 'u',
};

/** A private redis-server and an admin connection to seed it. */
export async function startBenchRedis(
  commandTimeoutMs = 60_000,
): Promise<{ redis: RedisServer; admin: RedisClient }> {
  const redis = await RedisServer.start();
  const admin = createRedisClient({ url: redis.url, commandTimeoutMs, connectTimeoutMs: 2000 });
  await new Promise((resolve) => admin.once('ready', resolve));
  return { redis, admin };
}

/** Stores one running session of tenant `default` for the read scenarios; returns its id. */
export async function seedBenchSession(admin: RedisClient): Promise<string> {
  const sessions = new RedisSessionRepository(
    admin,
    new RedisKeyBuilder(BENCH_PREFIX),
    new JsonPayloadCodec(),
  );
  const id = randomUUID();
  await sessions.create('default', [
    {
      id,
      config: { ...BENCH_SESSION_BODY.session_config, step: 3 },
      metadata: BENCH_SESSION_BODY.metadata,
      status: 'running',
      createdBy: BENCH_SESSION_BODY.created_by,
      ttlSeconds: 86_400,
    },
  ]);
  return id;
}

/** A rate-limit file with limits no benchmark reaches; returns its path. */
export function writeUnlimitedRateLimits(dir: string): string {
  const path = join(dir, 'rate-limits.yaml');
  writeFileSync(
    path,
    'window_seconds: 60\nclasses:\n  reads: 1000000000\n  writes: 1000000000\n' +
      '  bulk: 1000000000\n  invalidation: 1000\n  audit_export: 10\n',
  );
  return path;
}

/** The built API's environment: production configuration, logging at info, on this Redis. */
export function productionApiEnv(
  port: number,
  redisUrl: string,
  rateLimitsPath: string,
): Record<string, string> {
  return {
    APP_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: BENCH_PREFIX,
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'info',
    // Production's 2 s, raised: 50 queued connections on a loaded 2-core machine can exceed it.
    REDIS_COMMAND_TIMEOUT_MS: '10000',
    METRICS_TOKEN: BENCH_METRICS_TOKEN,
    RATE_LIMITS_CONFIG_PATH: rateLimitsPath,
    SWAGGER_ENABLED: 'false',
  };
}

/** An orchestrator's bearer header for tenant `default`, valid for the longest run. */
export function benchAuthorization(): string {
  return `Bearer ${tokenFor({ sub: 'bench', roles: ['orchestrator'], tenant: 'default' }, { expiresIn: '4h' })}`;
}
