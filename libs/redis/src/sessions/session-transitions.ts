import type { StoreObserver } from '../observability/store-observer';
import type { DeleteOutcome, UpdateOutcome } from './session.repository';

/**
 * Reports status changes and deletions of sessions from the write outcomes, which carry the status
 * before the write and created_at as the script saw them (so a concurrent write cannot make one
 * transition count twice).
 */
export function reportSessionTransitions(
  method: string,
  result: unknown,
  observer: StoreObserver,
): void {
  if (!observer.sessionTransition) return;
  if (method === 'update' || method === 'mergePatch') {
    const outcome = result as UpdateOutcome;
    if (outcome.kind === 'updated' && outcome.status !== outcome.previousStatus) {
      observer.sessionTransition(
        outcome.previousStatus,
        outcome.status,
        outcome.createdAt,
        outcome.updatedAt,
      );
    }
  } else if (method === 'delete') {
    const outcome = result as DeleteOutcome;
    if (outcome.kind !== 'deleted') return;
    for (const ended of outcome.ended) {
      observer.sessionTransition(ended.status, null, ended.createdAt, outcome.deletedAt);
    }
  }
}
