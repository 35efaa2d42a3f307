export const ROUTE_CLASSES = ['reads', 'writes', 'bulk', 'invalidation', 'audit_export'] as const;
export type RouteClass = (typeof ROUTE_CLASSES)[number];

export interface RateLimitPolicy {
  windowSeconds: number;
  limits: Record<RouteClass, number>;
  /** Failed authentications allowed per client IP and window before 429 (brute-force brake). */
  failedAuthPerIp: number;
}

const DEFAULT_FAILED_AUTH_PER_IP = 60;

export class RateLimitConfigError extends Error {}

/** Validates the parsed config/rate-limits.yaml. */
export function parseRateLimitPolicy(raw: unknown, source: string): RateLimitPolicy {
  const doc = raw as
    | { window_seconds?: unknown; classes?: Record<string, unknown>; failed_auth_per_ip?: unknown }
    | undefined;
  const windowSeconds = doc?.window_seconds;
  if (typeof windowSeconds !== 'number' || !Number.isInteger(windowSeconds) || windowSeconds < 1) {
    throw new RateLimitConfigError(`${source}: window_seconds must be a positive integer`);
  }
  const classes = doc?.classes ?? {};
  for (const name of Object.keys(classes)) {
    if (!(ROUTE_CLASSES as readonly string[]).includes(name)) {
      throw new RateLimitConfigError(
        `${source}: unknown route class "${name}" (known: ${ROUTE_CLASSES.join(', ')})`,
      );
    }
  }
  const limits = {} as Record<RouteClass, number>;
  for (const name of ROUTE_CLASSES) {
    const limit = classes[name];
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
      throw new RateLimitConfigError(`${source}: classes.${name} must be a positive integer`);
    }
    limits[name] = limit;
  }
  const failedAuthPerIp = doc?.failed_auth_per_ip ?? DEFAULT_FAILED_AUTH_PER_IP;
  if (
    typeof failedAuthPerIp !== 'number' ||
    !Number.isInteger(failedAuthPerIp) ||
    failedAuthPerIp < 1
  ) {
    throw new RateLimitConfigError(`${source}: failed_auth_per_ip must be a positive integer`);
  }
  return { windowSeconds, limits, failedAuthPerIp };
}
