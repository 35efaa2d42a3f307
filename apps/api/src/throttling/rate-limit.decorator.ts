import { SetMetadata } from '@nestjs/common';
import type { RouteClass } from './rate-limit-policy';

export const RATE_LIMIT_CLASS_KEY = 'masa:rate-limit-class';

/**
 * Puts a route in a rate-limit class other than the one its HTTP method implies
 * (GET -> reads, anything else -> writes).
 */
export const RateLimitClass = (routeClass: RouteClass) =>
  SetMetadata(RATE_LIMIT_CLASS_KEY, routeClass);
