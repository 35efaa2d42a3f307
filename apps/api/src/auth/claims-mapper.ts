import type { JwtPayload } from 'jsonwebtoken';
import { TENANT_PATTERN } from '@app/redis';
import { DEFAULT_TENANT } from '../common/http/tenant.decorator';
import { ROLES, type Role } from './permissions';
import type { Principal } from './principal';

/** Subjects as ids: plain and bounded (`|` for identity providers' `auth0|…` style subjects). */
const SUBJECT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@:+/=|-]{0,127}$/;

/** Thrown for any claim problem; the guard answers every authentication failure the same way. */
export class InvalidClaimsError extends Error {}

/** Where in a token the claims this API relies on live (JWT_*_CLAIM). */
export interface ClaimPaths {
  subject: string;
  roles: string;
  tenant: string;
  /** Unset: scopes are not checked. Set: a request needs the role's and the scope's permission. */
  scopes?: string;
}

export const DEFAULT_CLAIM_PATHS: ClaimPaths = { subject: 'sub', roles: 'roles', tenant: 'tenant' };

/**
 * The value at `path` in a token's claims. A path is a claim name or a dotted path into nested
 * objects (Keycloak's `realm_access.roles`); at each level the longest run of segments that names
 * a key wins, so namespaced claims whose names contain dots and slashes (Auth0's
 * `https://example.com/roles`) work as they are written.
 */
export function readClaim(claims: Record<string, unknown>, path: string): unknown {
  const segments = path.split('.');
  let node: unknown = claims;
  let start = 0;
  while (start < segments.length) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    const here = node as Record<string, unknown>;
    let end = segments.length;
    while (end > start && !Object.hasOwn(here, segments.slice(start, end).join('.'))) end--;
    if (end === start) return undefined;
    node = here[segments.slice(start, end).join('.')];
    start = end;
  }
  return node;
}

/** A list claim given as a JSON array of strings or as one space-separated string (`scope`). */
function stringList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return value.split(' ').filter((part) => part.length > 0);
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  return undefined;
}

/**
 * Turns verified claims into a Principal, reading them where the identity provider puts them
 * (Keycloak `realm_access.roles`, Entra ID `roles`/`tid`/`scp`, Auth0 namespaced claims).
 */
export class ClaimsMapper {
  /**
   * With the API's own `roles` claim an unknown role is an error (its tokens never carry one);
   * an identity provider's role claim also carries roles meant for other applications
   * (`offline_access`, `default-roles-<realm>`), which are ignored.
   */
  private readonly ignoreUnknownRoles: boolean;

  constructor(private readonly paths: ClaimPaths = DEFAULT_CLAIM_PATHS) {
    this.ignoreUnknownRoles = paths.roles !== DEFAULT_CLAIM_PATHS.roles;
  }

  toPrincipal(payload: JwtPayload): Principal {
    if (typeof payload.exp !== 'number') throw new InvalidClaimsError('exp is required');
    const sub = readClaim(payload, this.paths.subject);
    if (typeof sub !== 'string' || !SUBJECT_PATTERN.test(sub)) {
      throw new InvalidClaimsError(`${this.paths.subject} is missing or malformed`);
    }
    const tenant = readClaim(payload, this.paths.tenant) ?? DEFAULT_TENANT;
    if (typeof tenant !== 'string' || !TENANT_PATTERN.test(tenant)) {
      throw new InvalidClaimsError(`${this.paths.tenant} is malformed`);
    }
    const principal: Principal = { sub, roles: this.roles(payload), tenant };
    if (this.paths.scopes !== undefined) {
      principal.scopes = stringList(readClaim(payload, this.paths.scopes)) ?? [];
    }
    return principal;
  }

  private roles(payload: JwtPayload): Role[] {
    const listed = stringList(readClaim(payload, this.paths.roles));
    const isRole = (role: string): role is Role => (ROLES as readonly string[]).includes(role);
    const known = (listed ?? []).filter(isRole);
    const acceptable =
      known.length > 0 && (this.ignoreUnknownRoles || known.length === listed?.length);
    if (!acceptable) {
      throw new InvalidClaimsError(`${this.paths.roles} must be a non-empty list of known roles`);
    }
    return [...new Set(known)];
  }
}
