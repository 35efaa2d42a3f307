import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { sign, type SignOptions } from 'jsonwebtoken';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { createApp, type AppOverrides } from '../../apps/api/src/app.factory';
import type { AppConfig } from '../../apps/api/src/config/app-config';
import { loadConfig } from '../../apps/api/src/config/load-config';

export const TEST_JWT_SECRET = 'test-only-secret-for-jest-runs-0123456789abcdef';

export interface TestClaims {
  sub: string;
  roles: string[];
  tenant?: string;
}

/** An HS256 token signed with the test secret, valid for an hour unless options say otherwise. */
export function tokenFor(
  claims: TestClaims,
  options: SignOptions = {},
  secret = TEST_JWT_SECRET,
): string {
  return sign({ ...claims }, secret, { algorithm: 'HS256', expiresIn: '1h', ...options });
}

export interface TestApp {
  app: NestFastifyApplication;
  /** Requests as an orchestrator of tenant `default` (all session, memory and cache permissions). */
  http: TestAgent;
  /** Requests without any credentials. */
  anonymous: TestAgent;
  /** Requests carrying a token with these claims. */
  as(claims: TestClaims): TestAgent;
  config: AppConfig;
  close(): Promise<void>;
}

/** The real application, configured like production except for the variables given. */
export async function startTestApp(
  redisUrl: string,
  env: Record<string, string> = {},
  overrides: AppOverrides = {},
): Promise<TestApp> {
  const config = loadConfig({
    APP_ENV: 'test',
    REDIS_URL: redisUrl,
    // A key prefix per app keeps parallel test files apart even on a shared Redis.
    REDIS_KEY_PREFIX: `t${process.pid}`,
    JWT_SECRET: TEST_JWT_SECRET,
    ...env,
  });
  const app = await createApp(config, overrides);
  try {
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  } catch (error) {
    // An app refused at start-up (e.g. by the eviction-policy check) still holds its Redis
    // connections; left open they kept the test process from exiting.
    await app.close().catch(() => undefined);
    throw error;
  }
  const server = app.getHttpServer();
  const as = (claims: TestClaims) =>
    request.agent(server).set('Authorization', `Bearer ${tokenFor(claims)}`);
  return {
    app,
    http: as({ sub: 'orchestrator-1', roles: ['orchestrator'], tenant: 'default' }),
    anonymous: request.agent(server),
    as,
    config,
    close: () => app.close(),
  };
}
