/** Every permission a route can require. Roles map to these in config/rbac.yaml. */
export const PERMISSIONS = [
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
  'audit:read',
  'audit:verify',
  'metrics:read',
  'analytics:read',
  'health:read',
  'admin:maintenance',
  'admin:api-keys',
  'admin:export',
  'admin:import',
  'subjects:erase',
  'subjects:export',
  '*',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['admin', 'orchestrator', 'analyst', 'agent'] as const;
export type Role = (typeof ROLES)[number];
