/** What an erasure deleted, over all of its steps (interrupted earlier runs included). */
export interface ErasureTotals {
  sessionsDeleted: number;
  memoryRecordsDeleted: number;
  cacheEntriesDeleted: number;
  /** Epoch milliseconds from Redis' clock, when the receipt was written. */
  completedAt: number;
}

/**
 * Data-subject erasure. Bound to the Redis implementation by RedisModule; a test may bind another.
 * Implementations never throw HTTP errors; "Redis is unreachable" is StoreUnavailableError.
 */
export abstract class SubjectRepository {
  /**
   * Deletes every session created by `userId` (with its agent memory) and every cache entry tagged
   * `user:<userId>`, in bounded steps, each record with all of its index entries at once. Safe to
   * repeat: a run that was interrupted is finished by the next one, whose totals include what the
   * interrupted run deleted. Within a request, each step and the final receipt are audited.
   */
  abstract erase(tenant: string, userId: string): Promise<ErasureTotals>;
}
