/**
 * The load generator of `npm run bench`, in its own process so that it never shares an event loop
 * with the servers it measures. Receives autocannon options over IPC, answers with the figures.
 */
import autocannon from 'autocannon';

export interface LoadRequest {
  url: string;
  method: 'GET' | 'POST' | 'PATCH';
  headers: Record<string, string>;
  body?: string;
  seconds: number;
  connections: number;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  /** Bytes received per response, headers included. */
  bytesPerResponse: number;
  /** Responses per status code (a non-2xx names its cause). */
  statuses: Record<string, number>;
}

process.on('message', (request: LoadRequest) => {
  void autocannon({
    url: request.url,
    method: request.method,
    headers: request.headers,
    body: request.body,
    duration: request.seconds,
    connections: request.connections,
  }).then((result) => {
    const answer: LoadResult = {
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      requests: result.requests.total,
      non2xx: result.non2xx,
      errors: result.errors,
      bytesPerResponse: result.throughput.total / Math.max(1, result.requests.total),
      statuses: Object.fromEntries(
        Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [
          code,
          stats.count ?? 0,
        ]),
      ),
    };
    process.send?.(answer);
  });
});
