import type { components } from './generated/openapi';

/** The API's RFC 9457 problem details (`application/problem+json`), as the OpenAPI document says. */
export type ProblemDetails = components['schemas']['ProblemDetailsDto'];

/**
 * A response outside 2xx. `problem` is the problem+json body when the API sent one (it always
 * does for its own errors); a proxy's HTML error page leaves it undefined and `body` holds the text.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly problem?: ProblemDetails;
  readonly body: unknown;
  /** The request id the API logged the failure under (problem.request_id or X-Request-Id). */
  readonly requestId?: string;
  readonly method: string;
  readonly url: string;

  constructor(init: {
    status: number;
    method: string;
    url: string;
    body: unknown;
    requestId?: string;
  }) {
    const problem = isProblem(init.body) ? init.body : undefined;
    super(
      problem
        ? `${init.method} ${init.url}: ${problem.status} ${problem.title}: ${problem.detail}`
        : `${init.method} ${init.url}: HTTP ${init.status}`,
    );
    this.name = 'ApiError';
    this.status = init.status;
    this.problem = problem;
    this.body = init.body;
    this.requestId = problem?.request_id ?? init.requestId;
    this.method = init.method;
    this.url = init.url;
  }

  /** The `errors[].field` names of a validation problem (empty for other problems). */
  get fields(): string[] {
    return (this.problem?.errors ?? []).map((e) => e.field);
  }

  static async fromResponse(request: Request, response: Response): Promise<ApiError> {
    const text = await response.clone().text();
    let body: unknown = text;
    if (/json/i.test(response.headers.get('content-type') ?? '') && text !== '') {
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        // Not JSON after all: keep the text.
      }
    }
    return new ApiError({
      status: response.status,
      method: request.method,
      url: request.url,
      body,
      requestId: response.headers.get('x-request-id') ?? undefined,
    });
  }
}

function isProblem(body: unknown): body is ProblemDetails {
  if (body === null || typeof body !== 'object') return false;
  const candidate = body as Record<string, unknown>;
  return typeof candidate.status === 'number' && typeof candidate.title === 'string';
}
