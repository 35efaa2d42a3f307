import type { RouteInfo } from './route-inventory';

/** Start-up refusal: a route that declares neither permissions nor @Public() would be ambiguous. */
export function assertEveryRouteDeclaresAccess(routes: RouteInfo[]): void {
  const undeclared = routes.filter((route) => !route.isPublic && route.permissions.length === 0);
  if (undeclared.length > 0) {
    const list = undeclared
      .map((r) => `${r.method} ${r.path} (${r.controller}.${r.handler})`)
      .join(', ');
    throw new Error(`Routes without @RequirePermissions or @Public: ${list}`);
  }
}
