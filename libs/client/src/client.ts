import { randomUUID } from 'node:crypto';
import createFetchClient, { type Client, type Middleware } from 'openapi-fetch';
import { ApiError } from './errors';
import type { paths } from './generated/openapi';
import { IDEMPOTENT_OPERATIONS } from './generated/operations';
import { DEFAULT_RETRY_POLICY, retryingFetch, type RetryPolicy } from './retry';

/** A bearer token, or a function giving the current one (called per request: refresh it there). */
export type TokenSource = string | (() => string | Promise<string>);

interface BaseOptions {
  /** Where the API is, e.g. `https://api.example.com` (paths start with /api/v1). */
  baseUrl: string;
  /** Retries of 429 and 503 answers (Retry-After honoured); a number is `{ retries }`. */
  retries?: number | Partial<RetryPolicy>;
  /** The fetch to send requests with (default: globalThis.fetch). */
  fetch?: (request: Request) => Promise<Response>;
  /** Headers sent with every request (e.g. `traceparent`). */
  headers?: Record<string, string>;
}

export type ClientOptions = BaseOptions &
  (
    | { /** A JWT, sent as `Authorization: Bearer`. */ token: TokenSource; apiKey?: never }
    | { /** An API key (`masa_…`), sent as `X-API-Key`. */ apiKey: string; token?: never }
  );

/** The typed client: `GET`, `POST`, `PUT`, `PATCH`, `DELETE` over the API's paths. */
export type ApiClient = Client<paths>;

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/**
 * A client typed by the committed OpenAPI document. Every call resolves with `{ data, response }`
 * on 2xx and throws {@link ApiError} (with the problem+json) otherwise. Creates that take an
 * Idempotency-Key get one generated when the caller did not set one; it is the same on each of
 * the client's own retries, so a retried create is answered by a replay, never written twice.
 */
export function createClient(options: ClientOptions): ApiClient {
  const policy = retryPolicy(options.retries);
  const baseFetch = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const client = createFetchClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    fetch: retryingFetch(baseFetch, policy),
    headers: options.headers,
  });
  client.use(authentication(options), idempotencyKeys(), problemErrors());
  return client;
}

function retryPolicy(retries: ClientOptions['retries']): RetryPolicy {
  if (retries === undefined) return DEFAULT_RETRY_POLICY;
  const given = typeof retries === 'number' ? { retries } : retries;
  const policy = { ...DEFAULT_RETRY_POLICY, ...given };
  if (!Number.isInteger(policy.retries) || policy.retries < 0 || policy.retries > 10) {
    throw new RangeError('retries must be an integer from 0 to 10');
  }
  return policy;
}

function authentication(options: ClientOptions): Middleware {
  if (options.token !== undefined && options.apiKey !== undefined) {
    // The API refuses a request carrying both (401); say so before sending anything.
    throw new TypeError('give either token or apiKey, not both');
  }
  return {
    async onRequest({ request }) {
      if (options.apiKey !== undefined) {
        request.headers.set('X-API-Key', options.apiKey);
      } else if (options.token !== undefined) {
        const token = typeof options.token === 'function' ? await options.token() : options.token;
        request.headers.set('Authorization', `Bearer ${token}`);
      }
      return request;
    },
  };
}

function idempotencyKeys(): Middleware {
  return {
    onRequest({ request, schemaPath }) {
      const operation = `${request.method} ${schemaPath}`;
      if (IDEMPOTENT_OPERATIONS.has(operation) && !request.headers.has(IDEMPOTENCY_KEY_HEADER)) {
        request.headers.set(IDEMPOTENCY_KEY_HEADER, randomUUID());
      }
      return request;
    },
  };
}

function problemErrors(): Middleware {
  return {
    async onResponse({ request, response }) {
      if (!response.ok) throw await ApiError.fromResponse(request, response);
      return response;
    },
  };
}
