/**
 * Repeats a bounded clean-up until it comes back short. Each batch is its own script call, so
 * Redis serves other clients between batches instead of being held by one long script.
 */
export async function drainInBatches(
  purge: (limit: number) => Promise<number>,
  batchSize: number,
): Promise<void> {
  while ((await purge(batchSize)) === batchSize) {
    // Keep going: a full batch means more may be waiting.
  }
}
