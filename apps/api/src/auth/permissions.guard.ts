import {
  ForbiddenException,
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Permission } from './permissions';
import type { AuthenticatedRequest } from './principal';
import {
  compileGrants,
  permissionRefusal,
  type RoleGrants,
  type ScopePermissions,
} from './rbac-policy';
import { PERMISSIONS_KEY, PUBLIC_KEY } from './require-permissions.decorator';
import { routeMemo } from '../common/http/route-memo';

/** Global, after authentication: the caller's roles must grant what the route declares. */
@Injectable()
export class PermissionsGuard implements CanActivate {
  private readonly grants: RoleGrants;
  private readonly scopePolicy: ScopePermissions;
  private readonly declared = routeMemo((targets) => ({
    isPublic: this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets) === true,
    required: this.reflector.getAllAndOverride<Permission[] | undefined>(PERMISSIONS_KEY, targets),
  }));

  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.grants = compileGrants(config.auth.rolePermissions);
    this.scopePolicy = config.auth.scopePermissions;
  }

  canActivate(context: ExecutionContext): boolean {
    const { isPublic, required } = this.declared(context);
    if (isPublic) return true;
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    // A route without a declaration is closed, never open (the start-up check also refuses it).
    if (!required || required.length === 0 || !principal)
      throw new ForbiddenException('Access denied.');
    const refusal = permissionRefusal(this.grants, this.scopePolicy, principal, required);
    if (refusal === 'roles') throw new ForbiddenException(`Requires ${required.join(' and ')}.`);
    if (refusal === 'scopes') {
      throw new ForbiddenException(`Requires a scope granting ${required.join(' and ')}.`);
    }
    return true;
  }
}
