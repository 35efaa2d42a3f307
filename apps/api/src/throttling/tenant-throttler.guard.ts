import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  ThrottlerGuard,
  ThrottlerStorage,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
} from '@nestjs/throttler';
import { InjectThrottlerOptions, InjectThrottlerStorage } from '@nestjs/throttler';
import type { AuthenticatedRequest } from '../auth/principal';
import { PUBLIC_KEY } from '../auth/require-permissions.decorator';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { RATE_LIMIT_CLASS_KEY } from './rate-limit.decorator';
import type { RouteClass } from './rate-limit-policy';
import { answersItself, deferVerdict } from './deferred-verdict';
import { routeMemo } from '../common/http/route-memo';

/**
 * Runs after authentication. Counts per tenant + subject for authenticated calls (so one noisy
 * agent cannot exhaust its tenant's neighbours) and per client IP otherwise, in one bucket per
 * route class.
 */
@Injectable()
export class TenantThrottlerGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super(options, storage, reflector);
  }

  // Probes and docs are public and must never be throttled into looking unhealthy.
  private readonly isPublic = routeMemo(
    (targets) => this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets) === true,
  );

  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    return Promise.resolve(this.isPublic(context));
  }

  /**
   * Reads (GET routes of the `reads` class) do not wait here for the counter: the handler runs at
   * once, so its Redis read is issued in the same turn as the rate-limit script and both go out in
   * one flush (one round trip instead of two). installRateLimitVerdict holds the answer until
   * the verdict is in, and a refused read answers 429 (its read wasted). Writes, bulk and export
   * classes, and handlers that answer by themselves wait for the verdict before they run.
   */
  protected override handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const { context } = props;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (
      request.method !== 'GET' ||
      routeClassOf(context, this.reflector) !== 'reads' ||
      answersItself(context)
    ) {
      return super.handleRequest(props);
    }
    deferVerdict(request, super.handleRequest(props));
    return Promise.resolve(true);
  }

  protected override getTracker(request: Record<string, unknown>): Promise<string> {
    const { principal, ip } = request as unknown as AuthenticatedRequest;
    return Promise.resolve(principal ? `t:${principal.tenant}:s:${principal.sub}` : `ip:${ip}`);
  }

  /**
   * An authenticated caller's counter carries its tenant's hash tag, like the tenant's data: on
   * Redis Cluster a request then needs only the master holding its tenant, so a master that fails
   * refuses its own tenants' requests and no one else's (with the counter hashed on the whole key,
   * a tenant of a healthy master was refused whenever its counter sat on the dead one). The tenant
   * was checked against TENANT_PATTERN when the token was read, so it is safe inside braces.
   */
  protected override generateKey(context: ExecutionContext, tracker: string): string {
    const routeClass = routeClassOf(context, this.reflector);
    const { principal } = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const prefix = this.config.redis.keyPrefix;
    return principal
      ? `${prefix}:{${principal.tenant}}:rl:${routeClass}:s:${principal.sub}`
      : `${prefix}:rl:${routeClass}:${tracker}`;
  }
}

export function routeClassOf(context: ExecutionContext, reflector: Reflector): RouteClass {
  const declared = declaredClass(context, reflector);
  if (declared) return declared;
  return context.switchToHttp().getRequest<AuthenticatedRequest>().method === 'GET'
    ? 'reads'
    : 'writes';
}

let classLookup: ((context: ExecutionContext) => RouteClass | undefined) | undefined;

/** The route's @RateLimit class (asked three times per request: limit, deferral, key). */
function declaredClass(context: ExecutionContext, reflector: Reflector): RouteClass | undefined {
  classLookup ??= routeMemo((targets) =>
    reflector.getAllAndOverride<RouteClass | undefined>(RATE_LIMIT_CLASS_KEY, targets),
  );
  return classLookup(context);
}
