import { LATENCY_BUCKETS_MS, type LatencyRollup } from '@app/redis';

/**
 * The q-quantile (0..1) of a bucketed latency histogram, interpolated linearly inside the bucket
 * that holds it, so the answer is off by at most that bucket's width. Null without requests;
 * the slowest bucket has no upper bound, so there the answer is its lower bound.
 */
export function latencyPercentile(rollup: LatencyRollup, q: number): number | null {
  const total = rollup.buckets.reduce((sum, n) => sum + n, 0);
  if (total === 0) return null;
  const target = q * total;
  let below = 0;
  for (let i = 0; i < rollup.buckets.length; i++) {
    const count = rollup.buckets[i];
    if (count > 0 && below + count >= target) {
      const lower = i === 0 ? 0 : LATENCY_BUCKETS_MS[i - 1];
      if (i === LATENCY_BUCKETS_MS.length) return lower;
      const upper = LATENCY_BUCKETS_MS[i];
      return lower + ((upper - lower) * (target - below)) / count;
    }
    below += count;
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1];
}
