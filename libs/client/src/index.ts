export { createClient, IDEMPOTENCY_KEY_HEADER } from './client';
export type { ApiClient, ClientOptions, TokenSource } from './client';
export { ApiError, type ProblemDetails } from './errors';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry';
export { subscribe, EventStreamParser } from './sse';
export type { ServerSentEvent, SubscribeOptions } from './sse';
export type { paths, components, operations } from './generated/openapi';
