import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { ApiProblem } from '../common/swagger/api-problems.decorator';
import type { Permission } from './permissions';

export const PERMISSIONS_KEY = 'masa:permissions';
export const PUBLIC_KEY = 'masa:public';

/**
 * Declares what a route needs. The global guard refuses every route that declares neither this
 * nor @Public(), so a forgotten decorator closes a route rather than opening it. It also documents
 * what every protected route can answer before its handler runs: 401, 403 and 429 (the rate
 * limiter and the failed-authentication brake), and 500.
 */
export function RequirePermissions(...permissions: [Permission, ...Permission[]]) {
  return applyDecorators(
    SetMetadata(PERMISSIONS_KEY, permissions),
    ApiBearerAuth(),
    ApiProblem(401),
    ApiProblem(
      403,
      `Requires ${permissions.join(' and ')}: the token's roles (or an API key's scopes) do not grant it.`,
    ),
    ApiProblem(429),
    ApiProblem(500),
  );
}

/** Opens a route to unauthenticated callers (health probes, docs); neither counted nor limited. */
export const Public = () => applyDecorators(SetMetadata(PUBLIC_KEY, true), ApiProblem(500));
