import type { PurgeResult } from '@app/redis';

/** One purge call: what it reported, and what really left the expiry index meanwhile. */
export interface PurgeStep extends PurgeResult {
  gone: number;
}

/**
 * Calls `purge` until it reports nothing more, recording each call's report beside the drop of
 * `remaining()` (the expiry index's size), so a test can hold every report to what happened.
 */
export async function purgeStepByStep(
  purge: () => Promise<PurgeResult>,
  remaining: () => Promise<number>,
): Promise<PurgeStep[]> {
  const steps: PurgeStep[] = [];
  for (;;) {
    const before = await remaining();
    const step = await purge();
    steps.push({ ...step, gone: before - (await remaining()) });
    if (!step.more) return steps;
  }
}

/**
 * A drain whose first call stopped on its time budget: each call reported exactly what it
 * removed, `more` until the last, `total` in all.
 */
export function expectBudgetBoundDrain(steps: PurgeStep[], total: number): void {
  expect(steps[0].more).toBe(true);
  expect(steps[0].removed).toBeLessThan(total);
  for (const step of steps) expect(step.removed).toBe(step.gone);
  expect(steps.at(-1)!.more).toBe(false);
  expect(steps.reduce((sum, step) => sum + step.removed, 0)).toBe(total);
}
