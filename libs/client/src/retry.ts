import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  /** Retries after the first attempt (0 = none). */
  retries: number;
  /** First backoff when the server gives no Retry-After; doubles per retry. */
  baseDelayMs: number;
  /**
   * Longest wait before one retry. A Retry-After beyond it is not waited for: the response is
   * returned (bounded: a caller is never parked for minutes behind a long rate-limit window).
   */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 3,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
};

/** Statuses that say "try again later": rate-limited, or unavailable for now. */
const RETRYABLE_STATUSES = new Set([429, 503]);
/** Methods a server may safely see twice (RFC 9110 idempotent methods; PATCH here is merge-patch). */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'PATCH']);

/** Retry-After as milliseconds (delta-seconds or an HTTP date), or undefined when absent/invalid. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * How long to wait before retry number `attempt` (1-based), or undefined to give up. The server's
 * Retry-After is a floor: a little jitter on top keeps many clients refused together from coming
 * back in the same millisecond. Without it, exponential backoff with full jitter.
 */
export function retryDelayMs(
  attempt: number,
  retryAfter: number | undefined,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number | undefined {
  if (attempt > policy.retries) return undefined;
  if (retryAfter !== undefined) {
    if (retryAfter > policy.maxDelayMs) return undefined;
    const jitter = random() * Math.min(1000, Math.max(50, retryAfter * 0.2));
    return Math.min(policy.maxDelayMs, retryAfter + jitter);
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return random() * ceiling;
}

/**
 * Whether the outcome of `request` allows sending it again. A 429 was refused before any work.
 * A 503 may come from a write whose outcome is unknown (the store did not answer), so it is retried
 * only when a repeat cannot apply twice: idempotent methods, or a POST with an Idempotency-Key
 * (the API replays the first answer instead of writing again).
 */
export function mayRetry(request: Request, status: number): boolean {
  if (!RETRYABLE_STATUSES.has(status)) return false;
  if (status === 429) return true;
  return IDEMPOTENT_METHODS.has(request.method) || request.headers.has('idempotency-key');
}

/**
 * A fetch that retries 429 and 503 under `policy`. The request is cloned before every attempt, so
 * its body and headers (the Idempotency-Key included) are exactly the same each time.
 */
export function retryingFetch(
  fetchImpl: (request: Request) => Promise<Response>,
  policy: RetryPolicy,
): (request: Request) => Promise<Response> {
  return async (request: Request) => {
    for (let attempt = 1; ; attempt++) {
      const response = await fetchImpl(request.clone());
      if (!mayRetry(request, response.status)) return response;
      const delay = retryDelayMs(
        attempt,
        retryAfterMs(response.headers.get('retry-after')),
        policy,
      );
      if (delay === undefined) return response;
      // The refused answer's body is not needed: release the connection before waiting.
      await response.body?.cancel().catch(() => undefined);
      await sleep(delay, undefined, { signal: request.signal });
    }
  };
}
