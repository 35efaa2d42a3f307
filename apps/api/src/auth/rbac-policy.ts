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

/** Deny unless one of the caller's roles grants every required permission (or `*`). */
export function isAllowed(
  policy: RolePermissions,
  roles: readonly Role[],
  required: readonly Permission[],
): boolean {
  const granted = new Set(roles.flatMap((role) => policy[role] ?? []));
  if (granted.has('*')) return true;
  return required.length > 0 && required.every((permission) => granted.has(permission));
}
