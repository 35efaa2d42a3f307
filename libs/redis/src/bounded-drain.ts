import type { PurgeResult } from './purge-result';
import { StoreUnavailableError } from './store-errors';

/**
 * Batches of clean-up one request may run before it stops: past that, the backlog (a sweeper
 * outage, a mass expiry) is the sweepers' work, and the request answers 503 + Retry-After instead of
 * running thousands of scripts.
 */
export const REQUEST_PURGE_BATCHES = 10;

/**
 * Repeats a bounded clean-up until it reports nothing left, at most `maxBatches` times. Each batch
 * is its own script call, so Redis serves other clients between batches instead of being held by
 * one long script. Returns true when the clean-up finished (nothing left).
 */
export async function drainInBatches(
  purge: (limit: number) => Promise<PurgeResult>,
  batchSize: number,
  maxBatches = Number.POSITIVE_INFINITY,
): Promise<boolean> {
  for (let batch = 0; batch < maxBatches; batch++) {
    if (!(await purge(batchSize)).more) return true;
  }
  return false;
}

/** {@link drainInBatches} within a request's share; a larger backlog is a 503 ('busy'). */
export async function drainForRequest(
  purge: (limit: number) => Promise<PurgeResult>,
  batchSize: number,
): Promise<void> {
  if (!(await drainInBatches(purge, batchSize, REQUEST_PURGE_BATCHES))) {
    throw new StoreUnavailableError(
      `more than ${REQUEST_PURGE_BATCHES * batchSize} expired entries wait; the sweepers are clearing them`,
      'busy',
    );
  }
}
