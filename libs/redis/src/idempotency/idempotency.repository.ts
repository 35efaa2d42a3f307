/** The first response to a request carrying an Idempotency-Key, replayed to its retries. */
export interface StoredResponse {
  body: unknown;
  headers: Record<string, string>;
}

export type IdempotencyBegin =
  /** First time: the caller runs the request, then completes or abandons. */
  | { kind: 'started'; token: string }
  /** Same key and same request, still running elsewhere. */
  | { kind: 'in_flight' }
  /** Same key used before with another request body. */
  | { kind: 'mismatch' }
  | { kind: 'completed'; response: StoredResponse };

/**
 * Storage contract for Idempotency-Key handling, per tenant + scope (method, path, caller) + key.
 * Bound to Redis by RedisModule.
 */
export abstract class IdempotencyRepository {
  abstract begin(
    tenant: string,
    scope: string,
    key: string,
    fingerprint: string,
    inFlightMs: number,
  ): Promise<IdempotencyBegin>;
  abstract complete(
    tenant: string,
    scope: string,
    key: string,
    fingerprint: string,
    response: StoredResponse,
    retentionMs: number,
  ): Promise<void>;
  /** Forgets a started key (the request failed), so a retry runs again. */
  abstract abandon(tenant: string, scope: string, key: string, token: string): Promise<void>;
}
