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

/**
 * True when the failure is about reaching Redis (connection refused, closed, timed out, offline
 * queue disabled) or a transient server state; false for a reply error that reveals a bug.
 */
export function isUnavailability(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'ReplyError') return TRANSIENT_REPLY.test(error.message);
  return true;
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
