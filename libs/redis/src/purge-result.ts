/**
 * One bounded purge call. `removed` counts only what it really removed (metrics and sweeper totals
 * add it up); `more` says it stopped with expired entries left, on its cap or its Redis-time budget
 * (callers loop on it). One number cannot say both: a call that stopped on its budget removed fewer
 * than its cap.
 */
export interface PurgeResult {
  removed: number;
  more: boolean;
}

/** Reads a purge script's `{removed, 1 | 0}` reply. */
export function purgeResultOf(reply: unknown): PurgeResult {
  const [removed, more] = reply as [number | string, number | string];
  return { removed: Number(removed), more: Number(more) === 1 };
}
