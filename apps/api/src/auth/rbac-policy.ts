import { PERMISSIONS, ROLES, type Permission, type Role } from './permissions';

export type RolePermissions = Record<Role, readonly Permission[]>;

export class RbacConfigError extends Error {}

/** Validates the parsed config/rbac.yaml: known roles only, known permissions only. */
export function parseRbacPolicy(raw: unknown, source: string): RolePermissions {
  const roles = (raw as { roles?: unknown } | undefined)?.roles;
  if (typeof roles !== 'object' || roles === null || Array.isArray(roles)) {
    throw new RbacConfigError(`${source}: expected a "roles" mapping`);
  }
  const policy = Object.fromEntries(ROLES.map((role) => [role, [] as Permission[]])) as Record<
    Role,
    Permission[]
  >;
  for (const [role, permissions] of Object.entries(roles)) {
    if (!(ROLES as readonly string[]).includes(role)) {
      throw new RbacConfigError(`${source}: unknown role "${role}" (known: ${ROLES.join(', ')})`);
    }
    if (!Array.isArray(permissions))
      throw new RbacConfigError(`${source}: roles.${role} must be a list`);
    for (const permission of permissions) {
      if (!(PERMISSIONS as readonly unknown[]).includes(permission)) {
        throw new RbacConfigError(
          `${source}: roles.${role} has unknown permission ${JSON.stringify(permission)}`,
        );
      }
      policy[role as Role].push(permission as Permission);
    }
  }
  return policy;
}

/** Each role's permissions as a set, built once from the policy (the guard runs per request). */
export type RoleGrants = Record<Role, ReadonlySet<Permission>>;

export function compileGrants(policy: RolePermissions): RoleGrants {
  const grants = {} as Record<Role, ReadonlySet<Permission>>;
  for (const role of ROLES) grants[role] = new Set(policy[role]);
  return grants;
}

/** Deny unless the caller's roles together grant every required permission (or `*`). */
export function isAllowed(
  grants: RoleGrants,
  roles: readonly Role[],
  required: readonly Permission[],
): boolean {
  const grantedByAnyRole = (permission: Permission) =>
    roles.some((role) => grants[role]?.has(permission) ?? false);
  if (grantedByAnyRole('*')) return true;
  return required.length > 0 && required.every(grantedByAnyRole);
}
