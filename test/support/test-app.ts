import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { createApp } from '../../apps/api/src/app.factory';
import type { AppConfig } from '../../apps/api/src/config/app-config';
import { loadConfig } from '../../apps/api/src/config/load-config';

export interface TestApp {
  app: NestFastifyApplication;
  http: TestAgent;
  config: AppConfig;
  close(): Promise<void>;
}

/** The real application, configured like production except for the variables given. */
export async function startTestApp(redisUrl: string, env: Record<string, string> = {}): Promise<TestApp> {
  const config = loadConfig({ APP_ENV: 'test', REDIS_URL: redisUrl, ...env });
  const app = await createApp(config);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    http: request(app.getHttpServer()),
    config,
    close: () => app.close(),
  };
}
