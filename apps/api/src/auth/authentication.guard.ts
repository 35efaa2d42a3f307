import { Injectable, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { decode, type JwtPayload } from 'jsonwebtoken';
import type { Principal, AuthenticatedRequest } from './principal';
import { PUBLIC_KEY } from './require-permissions.decorator';
import { VerifiedTokenCache } from './verified-token.cache';

/**
 * Global: every route needs a valid bearer token unless it is @Public(). All failures (no token,
 * bad signature, alg none, expired, wrong issuer...) look alike to the caller on purpose.
 */
@Injectable()
export class AuthenticationGuard extends AuthGuard('jwt') {
  private readonly verified = new VerifiedTokenCache();

  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (
      this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, [
        context.getHandler(),
        context.getClass(),
      ])
    ) {
      return true;
    }
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = bearerToken(request.headers.authorization);
    const known = token === undefined ? undefined : this.verified.get(token);
    if (known) {
      attach(request, known);
      return true;
    }
    const allowed = (await super.canActivate(context)) as boolean;
    if (allowed && token !== undefined && request.principal) {
      this.verified.set(token, request.principal, (decode(token) ?? {}) as JwtPayload);
    }
    return allowed;
  }

  override handleRequest<TUser = Principal>(
    error: unknown,
    principal: Principal | false,
    _info: unknown,
    context: ExecutionContext,
  ): TUser {
    if (error || !principal) throw new UnauthorizedException('A valid bearer token is required.');
    attach(context.switchToHttp().getRequest<AuthenticatedRequest>(), principal);
    return principal as TUser;
  }
}

function attach(request: AuthenticatedRequest, principal: Principal): void {
  request.principal = principal;
  request.tenant = principal.tenant;
}

/** The token of `Authorization: Bearer <token>`, as passport-jwt's extractor reads it. */
function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}
