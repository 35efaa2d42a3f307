import { assertEveryRouteDeclaresAccess } from './route-access.check';
import type { RouteInfo } from './route-inventory';

const route = (overrides: Partial<RouteInfo>): RouteInfo => ({
  method: 'GET',
  path: '/api/v1/things',
  permissions: [],
  isPublic: false,
  controller: 'ThingsController',
  handler: 'list',
  ...overrides,
});

describe('assertEveryRouteDeclaresAccess', () => {
  it('accepts routes that declare a permission or are public', () => {
    expect(() =>
      assertEveryRouteDeclaresAccess([
        route({ permissions: ['sessions:read'] }),
        route({ path: '/api/v1/health', isPublic: true }),
      ]),
    ).not.toThrow();
  });

  it('refuses start-up naming every route that declares neither', () => {
    expect(() =>
      assertEveryRouteDeclaresAccess([
        route({ permissions: ['sessions:read'] }),
        route({ method: 'POST', path: '/api/v1/open', handler: 'create' }),
      ]),
    ).toThrow('POST /api/v1/open (ThingsController.create)');
  });
});
