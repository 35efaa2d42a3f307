/**
 * Errors the data layer raises. They carry no HTTP meaning; the API maps them (global filter).
 */
export class StoreUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`data store unavailable: ${reason}`);
    this.name = 'StoreUnavailableError';
  }
}

// Server replies that mean "not now" rather than "your command is wrong".
const TRANSIENT_REPLY = /^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|BUSY|NOREPLICAS)\b/;

// What ioredis and the socket layer raise when Redis cannot be reached or does not answer.
const CONNECTION_FAILURE =
  /Connection is closed|Stream isn't writeable|Command timed out|Reached the max retries|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|EAI_AGAIN|Failed to refresh slots cache|None of startup nodes is available|Too many Cluster redirections|All sentinels are unreachable/;
const CONNECTION_ERROR_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);

/**
 * True when the failure is about reaching Redis (connection refused, closed, timed out, offline
 * queue disabled) or a transient server state. False for anything else, including reply errors
 * and programming errors, which must stay 500s rather than hide behind a 503.
 */
export function isUnavailability(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'ReplyError') return TRANSIENT_REPLY.test(error.message);
  const code = (error as { code?: unknown }).code;
  return (
    CONNECTION_ERROR_NAMES.has(error.name) ||
    CONNECTION_FAILURE.test(error.message) ||
    (typeof code === 'string' && CONNECTION_FAILURE.test(code))
  );
}

/** Runs one data-store call, turning "Redis is not there" into {@link StoreUnavailableError}. */
export async function storeCall<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isUnavailability(error)) {
      throw new StoreUnavailableError(error instanceof Error ? error.message : String(error));
    }
    throw error;
  }
}
