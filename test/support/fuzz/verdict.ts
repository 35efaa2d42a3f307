import type { SendOutcome } from './http-sender';

/**
 * What is wrong with one answer, or undefined when it is acceptable: an answer in time, below
 * 500, and on an error status an RFC 9457 problem document carrying the same request id as the
 * X-Request-Id header.
 */
export function verdict(outcome: SendOutcome): string | undefined {
  if (outcome.kind === 'hang') return `hang (no answer within ${outcome.ms} ms)`;
  if (outcome.kind === 'transport') return `no answer: ${outcome.code}`;
  const { status, headers, body } = outcome.response;
  if (status >= 500) return `${status}: ${body.slice(0, 300)}`;
  if (status < 400) return undefined;
  const type = String(headers['content-type'] ?? '');
  if (!type.startsWith('application/problem+json')) {
    return `${status} as ${type || 'no content type'}, not problem+json: ${body.slice(0, 200)}`;
  }
  let problem: { status?: unknown; request_id?: unknown };
  try {
    problem = JSON.parse(body) as typeof problem;
  } catch {
    return `${status} problem+json that does not parse: ${body.slice(0, 200)}`;
  }
  if (problem.status !== status)
    return `${status} with a problem whose status is ${String(problem.status)}`;
  const requestId = headers['x-request-id'];
  if (typeof problem.request_id !== 'string' || problem.request_id.length === 0) {
    return `${status} problem without request_id`;
  }
  if (requestId !== problem.request_id) {
    return `${status} X-Request-Id ${String(requestId)} differs from request_id ${problem.request_id}`;
  }
  return undefined;
}

/** 2xx, 3xx, 4xx, 5xx, or the failure kind. */
export function statusClass(outcome: SendOutcome): string {
  if (outcome.kind !== 'response') return outcome.kind;
  return `${Math.floor(outcome.response.status / 100)}xx`;
}
