/** One tenant's record count and the measured sizes of a random sample of its records. */
export interface SampledCount {
  count: number;
  samples: number[];
}

const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

/**
 * Total bytes of all records, estimated from samples: a sampled tenant's records weigh its sample
 * mean; a tenant without samples (beyond the sampling cap) weighs the mean of every sample taken.
 * 0 when nothing could be sampled, which only happens when there is nothing stored (or every
 * drawn record was deleted before it was measured).
 */
export function estimateBytes(tenants: SampledCount[]): number {
  const all = tenants.flatMap((t) => t.samples);
  if (all.length === 0) return 0;
  const overall = mean(all);
  let total = 0;
  for (const tenant of tenants) {
    total += tenant.count * (tenant.samples.length > 0 ? mean(tenant.samples) : overall);
  }
  return Math.round(total);
}
