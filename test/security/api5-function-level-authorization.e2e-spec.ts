import { API_PREFIX } from '../../apps/api/src/app.factory';
import { listRoutes } from '../../apps/api/src/auth/route-inventory';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';
import { concretePath, DEFAULT_POLICY, ROUTE_PERMISSIONS } from './route-expectations';

/** OWASP API5:2023 Broken Function Level Authorization — every route × every role. */
describe('API5 function-level authorization', () => {
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

  it('has an expectation for every route the application serves, and no stale ones', () => {
    const served = listRoutes(t.app, API_PREFIX).map((route) => `${route.method} ${route.path}`);
    expect([...served].sort()).toEqual(Object.keys(ROUTE_PERMISSIONS).sort());
  });

  it('declares on every route exactly the permission the table expects', () => {
    for (const route of listRoutes(t.app, API_PREFIX)) {
      const expected = ROUTE_PERMISSIONS[`${route.method} ${route.path}`];
      if (expected === null) expect(route.isPublic).toBe(true);
      else expect(route.permissions).toEqual([expected]);
    }
  });

  it('config/rbac.yaml grants each role what the Security issue specifies', () => {
    expect(t.config.auth.rolePermissions).toEqual(DEFAULT_POLICY);
  });

  const cases = Object.entries(ROUTE_PERMISSIONS).flatMap(([route, permission]) =>
    Object.keys(DEFAULT_POLICY).map((role) => ({ route, permission, role })),
  );

  it.each(cases)('$role on $route', async ({ route, permission, role }) => {
    const [method, path] = route.split(' ');
    const agent = t.as({ sub: role === 'agent' ? 'agent-under-test' : `${role}-1`, roles: [role] });
    const call = agent[method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete'](
      concretePath(path),
    );
    const response = method === 'GET' || method === 'DELETE' ? await call : await call.send({});

    const granted = DEFAULT_POLICY[role];
    const allowed = permission === null || granted.includes('*') || granted.includes(permission);
    if (allowed) {
      expect([401, 403]).not.toContain(response.status);
    } else {
      expect(response.status).toBe(403);
      expect(response.body).toMatchObject({ status: 403, type: 'urn:masa:problem:forbidden' });
    }
  });

  it('refuses every non-public route to anonymous callers with 401', async () => {
    for (const [route, permission] of Object.entries(ROUTE_PERMISSIONS)) {
      if (permission === null) continue;
      const [method, path] = route.split(' ');
      const response = await t.anonymous[method.toLowerCase() as 'get'](concretePath(path));
      expect({ route, status: response.status }).toEqual({ route, status: 401 });
    }
  });

  describe('API keys: a key is allowed exactly what its roles, or its scopes, grant', () => {
    /** The default scope policy (config/rbac.yaml `scopes`), written down independently. */
    const SCOPE_POLICY: Record<string, string[]> = {
      read: ['sessions:read', 'memory:read', 'cache:read', 'events:read'],
      write: [
        'sessions:create',
        'sessions:read',
        'sessions:update',
        'sessions:delete',
        'memory:read',
        'memory:write',
        'memory:delete',
        'cache:read',
        'cache:write',
        'cache:delete',
        'cache:invalidate',
        'events:read',
      ],
      admin: ['*'],
    };
    const keys: Record<string, string> = {};

    beforeAll(async () => {
      const admin = t.as({ sub: 'admin-1', roles: ['admin'] });
      const issue = async (label: string, body: object) => {
        const response = await admin
          .post('/api/v1/admin/api-keys')
          .send({ name: label, ...body })
          .expect(201);
        keys[label] = (response.body as { api_key: string }).api_key;
      };
      for (const role of Object.keys(DEFAULT_POLICY))
        await issue(`role:${role}`, { roles: [role] });
      for (const scope of Object.keys(SCOPE_POLICY))
        await issue(`scope:${scope}`, { scopes: [scope] });
    });

    it('config/rbac.yaml maps the plan scopes read/write/admin as specified', () => {
      expect(t.config.auth.scopePermissions).toEqual(SCOPE_POLICY);
    });

    const keyCases = Object.entries(ROUTE_PERMISSIONS)
      .filter(([, permission]) => permission !== null)
      .flatMap(([route, permission]) => [
        ...Object.entries(DEFAULT_POLICY).map(([role, granted]) => ({
          route,
          permission: permission as string,
          label: `role:${role}`,
          granted,
        })),
        ...Object.entries(SCOPE_POLICY).map(([scope, granted]) => ({
          route,
          permission: permission as string,
          label: `scope:${scope}`,
          granted,
        })),
      ]);

    it.each(keyCases)('key $label on $route', async ({ route, permission, label, granted }) => {
      const [method, path] = route.split(' ');
      const call = t.anonymous[method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete'](
        concretePath(path),
      ).set('X-API-Key', keys[label]);
      const response = method === 'GET' || method === 'DELETE' ? await call : await call.send({});
      if (granted.includes('*') || granted.includes(permission)) {
        expect([401, 403]).not.toContain(response.status);
      } else {
        expect(response.status).toBe(403);
      }
    });
  });
});
