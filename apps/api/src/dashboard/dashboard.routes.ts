import { RequestMethod } from '@nestjs/common';

/**
 * Routes served outside the /api/v1 prefix: the built-in dashboard (a page, not an API).
 * app.factory.ts excludes them from the global prefix; the route inventory lists them as served.
 */
export const UNPREFIXED_ROUTES: { path: string; method: RequestMethod }[] = [
  { path: 'admin', method: RequestMethod.GET },
  { path: 'admin/assets/:file', method: RequestMethod.GET },
];
