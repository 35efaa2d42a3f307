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

/** Scope -> permissions (the `scopes` section of config/rbac.yaml; absent = none). */
export type ScopePermissions = Record<string, readonly Permission[]>;

const SCOPE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

export function parseScopePolicy(raw: unknown, source: string): ScopePermissions {
  const scopes = (raw as { scopes?: unknown } | undefined)?.scopes;
  if (scopes === undefined) return {};
  if (typeof scopes !== 'object' || scopes === null || Array.isArray(scopes)) {
    throw new RbacConfigError(`${source}: "scopes" must be a mapping`);
  }
  const policy: Record<string, Permission[]> = {};
  for (const [scope, permissions] of Object.entries(scopes)) {
    if (!SCOPE_NAME.test(scope)) throw new RbacConfigError(`${source}: bad scope name "${scope}"`);
    if (!Array.isArray(permissions) || !permissions.every(isPermission)) {
      throw new RbacConfigError(`${source}: scopes.${scope} must be a list of known permissions`);
    }
    policy[scope] = permissions;
  }
  return policy;
}

function isPermission(value: unknown): value is Permission {
  return (PERMISSIONS as readonly unknown[]).includes(value);
}

/**
 * What a set of scopes grants: the permissions config/rbac.yaml maps each scope to, and a scope
 * named exactly like a permission (`sessions:read`) grants that permission.
 */
export function scopeGrants(policy: ScopePermissions, scopes: readonly string[]): Set<Permission> {
  const granted = new Set<Permission>();
  for (const scope of scopes) {
    if (Object.hasOwn(policy, scope)) policy[scope].forEach((p) => granted.add(p));
    else if (isPermission(scope)) granted.add(scope);
  }
  return granted;
}

/** Deny unless the granted set holds every required permission (or `*`). */
export function grantsAll(granted: ReadonlySet<Permission>, required: readonly Permission[]) {
  return granted.has('*') || (required.length > 0 && required.every((p) => granted.has(p)));
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

/**
 * Why a caller may not use `required`, or undefined when it may: its roles must grant it, unless
 * it is an API key issued with scopes alone (no roles), whose scopes then decide; scopes, when the
 * caller has them, must grant it too. The one decision behind the permissions guard and the
 * change feed's per-event filter.
 */
export function permissionRefusal(
  grants: RoleGrants,
  scopePolicy: ScopePermissions,
  caller: { roles: readonly Role[]; scopes?: readonly string[] },
  required: readonly Permission[],
): 'roles' | 'scopes' | undefined {
  const scopesOnly = caller.roles.length === 0 && caller.scopes !== undefined;
  if (!scopesOnly && !isAllowed(grants, caller.roles, required)) return 'roles';
  if (
    caller.scopes !== undefined &&
    !grantsAll(scopeGrants(scopePolicy, caller.scopes), required)
  ) {
    return 'scopes';
  }
  return undefined;
}
