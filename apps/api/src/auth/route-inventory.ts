import { RequestMethod, type INestApplication } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { Permission } from './permissions';
import { PERMISSIONS_KEY, PUBLIC_KEY } from './require-permissions.decorator';
import { UNPREFIXED_ROUTES } from '../dashboard/dashboard.routes';

export interface RouteInfo {
  method: string;
  /** Nest path with the global prefix (unless excluded from it), params as `:name`. */
  path: string;
  permissions: Permission[];
  isPublic: boolean;
  controller: string;
  handler: string;
}

const join = (...parts: string[]) =>
  '/' +
  parts
    .flatMap((part) => part.split('/'))
    .filter((segment) => segment.length > 0)
    .join('/');

/** Every controller route of the application with what it declares. */
export function listRoutes(app: INestApplication, globalPrefix: string): RouteInfo[] {
  const discovery = app.get(DiscoveryService);
  const scanner = app.get(MetadataScanner);
  const reflector = app.get(Reflector);
  const routes: RouteInfo[] = [];
  for (const wrapper of discovery.getControllers()) {
    const instance = wrapper.instance as object | undefined;
    const metatype = wrapper.metatype as (abstract new (...args: never[]) => unknown) | undefined;
    if (!instance || !metatype) continue;
    const basePaths = ([] as string[]).concat(
      reflector.get<string | string[]>(PATH_METADATA, metatype) ?? '',
    );
    const prototype = Object.getPrototypeOf(instance) as object;
    for (const name of scanner.getAllMethodNames(prototype)) {
      const handler = (prototype as Record<string, unknown>)[name] as (
        ...args: unknown[]
      ) => unknown;
      const method = reflector.get<RequestMethod | undefined>(METHOD_METADATA, handler);
      const paths = reflector.get<string | string[] | undefined>(PATH_METADATA, handler);
      if (method === undefined || paths === undefined) continue;
      const targets = [handler, metatype];
      for (const base of basePaths) {
        for (const path of ([] as string[]).concat(paths)) {
          const unprefixed = UNPREFIXED_ROUTES.some(
            (route) => route.method === method && join(route.path) === join(base, path),
          );
          routes.push({
            method: RequestMethod[method],
            path: unprefixed ? join(base, path) : join(globalPrefix, base, path),
            permissions:
              reflector.getAllAndOverride<Permission[] | undefined>(PERMISSIONS_KEY, targets) ?? [],
            isPublic:
              reflector.getAllAndOverride<boolean | undefined>(PUBLIC_KEY, targets) ?? false,
            controller: metatype.name,
            handler: name,
          });
        }
      }
    }
  }
  return routes;
}
