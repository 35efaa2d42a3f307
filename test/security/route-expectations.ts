/**
 * What each route must require, written down independently of the code's decorators: the API5
 * and API9 suites fail when the application has a route that is missing here (or the reverse).
 * `null` marks a public route.
 */
export const ROUTE_PERMISSIONS: Record<string, string | null> = {
  'GET /api/v1/health': null,
  'GET /api/v1/health/live': null,
  'GET /api/v1/health/ready': null,
  'GET /api/v1/health/detailed': 'health:read',
  'GET /admin': null,
  'GET /admin/assets/:file': null,

  'POST /api/v1/sessions': 'sessions:create',
  'POST /api/v1/sessions/batch': 'sessions:create',
  'POST /api/v1/sessions/batch-get': 'sessions:read',
  'POST /api/v1/sessions/batch-delete': 'sessions:delete',
  'GET /api/v1/sessions': 'sessions:read',
  'GET /api/v1/sessions/:session_id': 'sessions:read',
  'PUT /api/v1/sessions/:session_id': 'sessions:update',
  'PATCH /api/v1/sessions/:session_id': 'sessions:update',
  'DELETE /api/v1/sessions/:session_id': 'sessions:delete',
  'GET /api/v1/sessions/:session_id/status': 'sessions:read',
  'PUT /api/v1/sessions/:session_id/status': 'sessions:update',

  'POST /api/v1/agents/:agent_id/memory': 'memory:write',
  'GET /api/v1/agents/:agent_id/memory': 'memory:read',
  'GET /api/v1/agents/:agent_id/memory/:session_id': 'memory:read',
  'PUT /api/v1/agents/:agent_id/memory/:session_id': 'memory:write',
  'PATCH /api/v1/agents/:agent_id/memory/:session_id': 'memory:write',
  'DELETE /api/v1/agents/:agent_id/memory/:session_id': 'memory:delete',
  'GET /api/v1/memory/sessions/:session_id': 'memory:read',
  'GET /api/v1/memory/agents': 'memory:read',
  'POST /api/v1/admin/reencrypt': 'admin:maintenance',
  'POST /api/v1/admin/api-keys': 'admin:api-keys',
  'GET /api/v1/admin/api-keys': 'admin:api-keys',
  'DELETE /api/v1/admin/api-keys/:key_id': 'admin:api-keys',
  'GET /api/v1/admin/export': 'admin:export',
  'POST /api/v1/admin/import': 'admin:import',
  'DELETE /api/v1/subjects/:user_id': 'subjects:erase',
  'GET /api/v1/subjects/:user_id/export': 'subjects:export',

  'POST /api/v1/cache/invalidate': 'cache:invalidate',
  'POST /api/v1/cache/batch-get': 'cache:read',
  'GET /api/v1/cache/stats': 'cache:read',
  'POST /api/v1/cache/:cache_key': 'cache:write',
  'GET /api/v1/cache/:cache_key': 'cache:read',
  'PUT /api/v1/cache/:cache_key': 'cache:write',
  'DELETE /api/v1/cache/:cache_key': 'cache:delete',

  'GET /api/v1/audit': 'audit:read',
  'GET /api/v1/audit/export': 'audit:read',
  'GET /api/v1/audit/verify': 'audit:verify',
  'GET /api/v1/metrics': 'metrics:read',
  'GET /api/v1/analytics/usage': 'analytics:read',
};

/** The default role policy as the Security issue states it (config/rbac.yaml must match). */
export const DEFAULT_POLICY: Record<string, string[]> = {
  admin: ['*'],
  orchestrator: [
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
  ],
  analyst: [
    'sessions:read',
    'memory:read',
    'analytics:read',
    'metrics:read',
    'health:read',
    'audit:read',
  ],
  agent: ['sessions:read', 'memory:read', 'memory:write', 'cache:read'],
};

/** Concrete values for path parameters, valid in shape so validation never hides a 403. */
export const PATH_PARAM_VALUES: Record<string, string> = {
  session_id: '3f1c2a9e-8b7d-4c6e-9f01-23456789abcd',
  agent_id: 'agent-under-test',
  cache_key: 'some.cache-key',
  file: 'dashboard.js',
  key_id: '0123456789abcdef',
  user_id: 'subject-under-test',
};

export function concretePath(path: string): string {
  return path.replace(/:([a-z_]+)/g, (_, name: string) => {
    const value = PATH_PARAM_VALUES[name];
    if (!value) throw new Error(`no test value for path parameter ${name}`);
    return value;
  });
}
