import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Permission } from './permissions';

export const PERMISSIONS_KEY = 'masa:permissions';
export const PUBLIC_KEY = 'masa:public';

/**
 * Declares what a route needs. The global guard refuses every route that declares neither this
 * nor @Public(), so a forgotten decorator closes a route rather than opening it.
 */
export function RequirePermissions(...permissions: [Permission, ...Permission[]]) {
  return applyDecorators(
    SetMetadata(PERMISSIONS_KEY, permissions),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({
      description: 'Missing or invalid bearer token (problem+json); WWW-Authenticate says why.',
      headers: {
        'WWW-Authenticate': {
          description:
            'RFC 6750, e.g. Bearer realm="api", error="invalid_token", ' +
            'error_description="the token has expired".',
          schema: { type: 'string' },
        },
      },
    }),
    ApiForbiddenResponse({ description: `Requires ${permissions.join(' and ')} (problem+json).` }),
  );
}

/** Opens a route to unauthenticated callers (health probes, docs). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);
