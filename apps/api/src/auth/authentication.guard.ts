import { Injectable, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Principal, AuthenticatedRequest } from './principal';
import { PUBLIC_KEY } from './require-permissions.decorator';

/**
 * Global: every route needs a valid bearer token unless it is @Public(). All failures (no token,
 * bad signature, alg none, expired, wrong issuer...) look alike to the caller on purpose.
 */
@Injectable()
export class AuthenticationGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    if (
      this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, [
        context.getHandler(),
        context.getClass(),
      ])
    ) {
      return true;
    }
    return super.canActivate(context);
  }

  override handleRequest<TUser = Principal>(
    error: unknown,
    principal: Principal | false,
    _info: unknown,
    context: ExecutionContext,
  ): TUser {
    if (error || !principal) throw new UnauthorizedException('A valid bearer token is required.');
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    request.principal = principal;
    request.tenant = principal.tenant;
    return principal as TUser;
  }
}
