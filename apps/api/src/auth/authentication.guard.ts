import {
  Inject,
  Injectable,
  Logger,
  UnauthorizedException,
  type ExecutionContext,
} from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { FastifyReply } from 'fastify';
import { RedisThrottlerStorage } from '@app/redis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { decode, type JwtPayload } from 'jsonwebtoken';
import type { Principal, AuthenticatedRequest } from './principal';
import { PUBLIC_KEY } from './require-permissions.decorator';
import { VerifiedTokenCache } from './verified-token.cache';
import { BearerTokenRefusedError, refusalOf, wwwAuthenticate } from './token-refusal';
import { AMBIGUOUS, ApiKeyAuthenticator } from '../api-keys/api-key.authenticator';
import { routeMemo } from '../common/http/route-memo';

/**
 * Global: every route needs a valid bearer token unless it is @Public(). All failures (no token,
 * bad signature, alg none, expired, wrong issuer...) look alike to the caller on purpose.
 */
@Injectable()
export class AuthenticationGuard extends AuthGuard('jwt') {
  private readonly verified = new VerifiedTokenCache();
  private readonly logger = new Logger('Auth');
  private readonly isPublic = routeMemo(
    (targets) => this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets) === true,
  );

  constructor(
    private readonly reflector: Reflector,
    private readonly counters: RedisThrottlerStorage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly apiKeys: ApiKeyAuthenticator,
  ) {
    super();
  }

  /**
   * Unauthenticated callers are limited per client IP: each failed attempt counts, and past
   * `failed_auth_per_ip` in a window the answer is 429 with Retry-After instead of 401, which
   * brakes token guessing without touching callers that authenticate.
   */
  private async countFailure(
    context: ExecutionContext,
    request: AuthenticatedRequest,
  ): Promise<void> {
    const { windowSeconds, failedAuthPerIp } = this.config.rateLimits;
    const windowMs = windowSeconds * 1000;
    const record = await this.counters.increment(
      `${this.config.redis.keyPrefix}:rl:failed-auth:ip:${request.ip}`,
      windowMs,
      failedAuthPerIp,
      windowMs,
      'default',
    );
    if (record.isBlocked) {
      void context
        .switchToHttp()
        .getResponse<FastifyReply>()
        .header('retry-after', record.timeToBlockExpire);
      throw new ThrottlerException(
        'Too many failed authentication attempts; retry after Retry-After seconds.',
      );
    }
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.isPublic(context)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const apiKey = ApiKeyAuthenticator.presented(request.headers);
    if (apiKey !== undefined) {
      const principal = apiKey === AMBIGUOUS ? undefined : await this.apiKeys.authenticate(apiKey);
      if (principal) {
        attach(request, principal);
        return true;
      }
      await this.countFailure(context, request);
      const refused = new BearerTokenRefusedError({
        error: 'invalid_token',
        description:
          apiKey === AMBIGUOUS
            ? 'send one credential: Authorization or X-API-Key, not both'
            : 'the API key is unknown, expired or revoked',
      });
      this.explain(context, request, refused);
      throw refused;
    }
    const token = bearerToken(request.headers.authorization);
    const known = token === undefined ? undefined : this.verified.get(token);
    if (known) {
      attach(request, known);
      return true;
    }
    let allowed: boolean;
    try {
      allowed = (await super.canActivate(context)) as boolean;
    } catch (error) {
      if (error instanceof UnauthorizedException) await this.countFailure(context, request);
      if (error instanceof BearerTokenRefusedError) this.explain(context, request, error);
      throw error;
    }
    if (allowed && token !== undefined && request.principal) {
      this.verified.set(token, request.principal, (decode(token) ?? {}) as JwtPayload);
    }
    return allowed;
  }

  /**
   * The body stays the same for every failure; the reason goes to WWW-Authenticate (RFC 6750) and
   * to an info log line with the request id, so "why was I refused?" has an answer.
   */
  private explain(
    context: ExecutionContext,
    request: AuthenticatedRequest,
    error: BearerTokenRefusedError,
  ): void {
    void context
      .switchToHttp()
      .getResponse<FastifyReply>()
      .header('www-authenticate', wwwAuthenticate(error.refusal));
    this.logger.log({
      msg: 'bearer token refused',
      request_id: String(request.id),
      reason: error.refusal.description,
    });
  }

  override handleRequest<TUser = Principal>(
    error: unknown,
    principal: Principal | false,
    info: unknown,
    context: ExecutionContext,
  ): TUser {
    if (error || !principal) {
      const { query } = context.switchToHttp().getRequest<AuthenticatedRequest>();
      throw new BearerTokenRefusedError(refusalOf(error, info, query as Record<string, unknown>));
    }
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
