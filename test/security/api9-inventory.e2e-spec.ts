import { API_PREFIX } from '../../apps/api/src/app.factory';
import { listRoutes } from '../../apps/api/src/auth/route-inventory';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

/** OWASP API9:2023 Improper Inventory Management — the OpenAPI document is the whole API. */
describe('API9 inventory', () => {
  let redis: RedisServer;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    t = await startTestApp(redis.url);
  });

  afterAll(async () => {
    await t.close();
    await redis.dispose();
  });

  it('documents every served route in OpenAPI, and documents nothing that is not served', async () => {
    const doc = (await t.anonymous.get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const served = listRoutes(t.app, API_PREFIX).map(
      (route) => `${route.method} ${route.path.replace(/:([a-z_]+)/g, '{$1}')}`,
    );
    expect([...documented].sort()).toEqual([...served].sort());
  });

  it('versions every API route under /api/v1 (the dashboard page is not an API route)', () => {
    for (const route of listRoutes(t.app, API_PREFIX).filter((r) => !r.path.startsWith('/admin')))
      expect(route.path.startsWith('/api/v1/')).toBe(true);
  });

  it('marks every protected operation with bearer auth and documents 401/403', async () => {
    const doc = (await t.anonymous.get('/docs-json').expect(200)).body as {
      paths: Record<
        string,
        Record<string, { security?: unknown[]; responses: Record<string, unknown> }>
      >;
    };
    for (const route of listRoutes(t.app, API_PREFIX).filter((r) => !r.isPublic)) {
      const operation =
        doc.paths[route.path.replace(/:([a-z_]+)/g, '{$1}')][route.method.toLowerCase()];
      expect(operation.security).toEqual([{ bearer: [] }]);
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['401', '403']));
    }
  });
});
