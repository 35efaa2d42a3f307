import { emptyLatencyRollup, LATENCY_BUCKETS_MS } from '@app/redis';
import { latencyPercentile } from './latency-percentile';

function rollupOf(latencies: number[]) {
  const rollup = emptyLatencyRollup();
  for (const ms of latencies) {
    let i = LATENCY_BUCKETS_MS.findIndex((bound) => ms <= bound);
    if (i < 0) i = LATENCY_BUCKETS_MS.length;
    rollup.buckets[i]++;
    rollup.requests++;
  }
  return rollup;
}

/** Width of the histogram bucket that holds `ms`: the most a bucketed estimate can be off. */
function bucketWidth(ms: number): number {
  const i = LATENCY_BUCKETS_MS.findIndex((bound) => ms <= bound);
  return i <= 0 ? LATENCY_BUCKETS_MS[0] : LATENCY_BUCKETS_MS[i] - LATENCY_BUCKETS_MS[i - 1];
}

function exact(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

describe('latencyPercentile', () => {
  it('is null without requests', () => {
    expect(latencyPercentile(emptyLatencyRollup(), 0.5)).toBeNull();
  });

  it('stays within the bucket width of the exact percentile for skewed traffic', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    // Mostly fast reads, a tail of slow writes: a log-normal-ish spread from 0.3 ms to 3 s.
    const latencies = Array.from({ length: 5000 }, () => Math.exp(random() * 9 - 1.2));
    const sorted = [...latencies].sort((a, b) => a - b);
    const rollup = rollupOf(latencies);
    for (const q of [0.5, 0.9, 0.95, 0.99]) {
      const truth = exact(sorted, q);
      const estimate = latencyPercentile(rollup, q)!;
      expect(Math.abs(estimate - truth)).toBeLessThanOrEqual(bucketWidth(truth));
    }
  });

  it('interpolates inside the bucket', () => {
    // 100 requests evenly spread over the 10-25 ms bucket: the median is about 17.5 ms.
    const rollup = rollupOf(Array.from({ length: 100 }, (_, i) => 10.01 + (i * 14.9) / 99));
    expect(latencyPercentile(rollup, 0.5)).toBeCloseTo(17.5, 1);
  });

  it('answers the lower bound of the open-ended slowest bucket', () => {
    expect(latencyPercentile(rollupOf([20000, 30000]), 0.99)).toBe(10000);
  });
});
