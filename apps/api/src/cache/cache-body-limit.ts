import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/** Room for the rest of a cache write body: tags (32 x 250 characters), ttl_seconds, JSON syntax. */
export const CACHE_ENVELOPE_BYTES = 64 * 1024;

/**
 * Gives the cache's write routes a body limit derived from CACHE_MAX_VALUE_BYTES, so a value just
 * over that limit is parsed and refused with the cache's own 413 naming `data`, while every other
 * route keeps BODY_LIMIT. Registered as Fastify routes are declared, which happens after providers
 * are built: this runs in the constructor for that reason.
 */
@Injectable()
export class CacheRouteBodyLimit {
  constructor(adapterHost: HttpAdapterHost, @Inject(APP_CONFIG) config: AppConfig) {
    const fastify = adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify || typeof fastify.addHook !== 'function') return;
    const limit = Math.max(
      config.http.bodyLimitBytes,
      config.cache.maxValueBytes + CACHE_ENVELOPE_BYTES,
    );
    fastify.addHook('onRoute', (route: RouteOptions) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      if (/\/cache(\/|$)/.test(route.url) && methods.some((m) => m === 'POST' || m === 'PUT')) {
        route.bodyLimit = limit;
      }
    });
  }
}
