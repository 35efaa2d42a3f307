/** Deployment-wide request figures over a recent window, summed across replicas (from the metrics rollups). */
export interface PerformanceSnapshot {
  window_seconds: number;
  requests_per_second: number;
  avg_response_time_ms: number;
  p95_response_time_ms: number;
  error_rate: number;
}

/** Implemented by the metrics module; the health module and the admin dashboard read it. */
export abstract class PerformanceSnapshotSource {
  abstract snapshot(windowSeconds: number): Promise<PerformanceSnapshot>;
}
