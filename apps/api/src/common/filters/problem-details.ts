import { HttpException, HttpStatus } from '@nestjs/common';
import { StoreUnavailableError, type StoreFailure } from '@app/redis';
import { DomainError, type FieldProblem } from '../errors/domain-errors';
import { RequestValidationError } from '../validation/request-validation.error';
import { UNSUPPORTED_MEDIA_TYPE_DETAIL } from '../http/json-body';

/** RFC 9457 problem details, with the request id every response carries. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  request_id: string;
  errors?: FieldProblem[];
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const problemType = (slug: string) => `urn:masa:problem:${slug}`;

interface Mapped {
  status: number;
  slug: string;
  title: string;
  detail: string;
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
}

const DOMAIN_STATUS: Record<DomainError['code'], { status: number; slug: string; title: string }> =
  {
    not_found: { status: 404, slug: 'not-found', title: 'Not Found' },
    version_mismatch: { status: 412, slug: 'version-mismatch', title: 'Precondition Failed' },
    payload_too_large: { status: 413, slug: 'payload-too-large', title: 'Payload Too Large' },
    invalid_request: { status: 400, slug: 'validation-error', title: 'Bad Request' },
    conflict: { status: 409, slug: 'conflict', title: 'Conflict' },
  };

/** Fastify's own errors (body parsing, content type) carry a code and a status. */
interface FastifyLikeError {
  code: string;
  statusCode: number;
  message: string;
}

function isFastifyError(error: unknown): error is FastifyLikeError {
  return (
    error instanceof Error &&
    typeof (error as Partial<FastifyLikeError>).code === 'string' &&
    typeof (error as Partial<FastifyLikeError>).statusCode === 'number'
  );
}

/**
 * Nest hands Fastify's own errors (body parsing, content type) to the filters as a plain
 * HttpException of the same status and message, without the code; these are recognised by both.
 */
const NEST_WRAPPED_FASTIFY: Record<string, string> = {
  '413 Request body is too large': 'FST_ERR_CTP_BODY_TOO_LARGE',
  '415 Unsupported Media Type': 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
};

/** What the request tells about the error that the error itself does not. */
export interface ProblemContext {
  /** The body limit of the route that refused the body, and the setting that raises it. */
  bodyLimit?: { bytes: number; setting: string };
}

function fastifyDetail(error: FastifyLikeError, context: ProblemContext): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return context.bodyLimit
        ? `The request body is larger than ${context.bodyLimit.bytes} bytes, the limit of this ` +
            `route; send less, or raise ${context.bodyLimit.setting}.`
        : 'The request body is larger than this route accepts (BODY_LIMIT).';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return UNSUPPORTED_MEDIA_TYPE_DETAIL;
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'The JSON body is empty.';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'The body is not valid JSON.';
    case 'FST_ERR_BAD_URL':
      return (
        'The URL path cannot be decoded: a percent-escape is malformed or does not spell UTF-8 ' +
        'text; percent-encode path parameters as UTF-8.'
      );
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return 'A path parameter is longer than any this API accepts (256 characters).';
    default:
      return error.message;
  }
}

function map(error: unknown, context: ProblemContext): Mapped {
  if (error instanceof RequestValidationError) {
    return {
      status: 400,
      slug: 'validation-error',
      title: 'Bad Request',
      detail: error.message,
      extensions: { errors: error.problems },
    };
  }
  if (error instanceof DomainError) {
    const known = DOMAIN_STATUS[error.code];
    const extensions = 'problems' in error ? { errors: error.problems } : undefined;
    return { ...known, detail: error.message, extensions };
  }
  if (error instanceof StoreUnavailableError) return storeFailure(error.failure);
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const body = error.getResponse();
    const detail =
      typeof body === 'string'
        ? body
        : typeof (body as { message?: unknown }).message === 'string'
          ? String((body as { message: string }).message)
          : error.message;
    const fastifyCode = NEST_WRAPPED_FASTIFY[`${status} ${detail}`];
    return {
      status,
      slug: slugFor(status),
      title: titleFor(status),
      detail: fastifyCode
        ? fastifyDetail({ code: fastifyCode, statusCode: status, message: detail }, context)
        : detail,
      extensions: extensionsOf(body),
    };
  }
  if (isFastifyError(error) && error.statusCode >= 400 && error.statusCode < 500) {
    return {
      status: error.statusCode,
      slug: slugFor(error.statusCode),
      title: titleFor(error.statusCode),
      detail: fastifyDetail(error, context),
    };
  }
  return {
    status: 500,
    slug: 'internal-error',
    title: 'Internal Server Error',
    detail: 'An unexpected error occurred; quote the request_id when reporting it.',
  };
}

/**
 * One deliberate answer per store failure class: what the caller can do, how long to wait, and
 * whether the write may have happened. The internal reason (addresses, server text) stays in the log.
 */
const STORE_FAILURES: Record<StoreFailure, { status: number; retryAfter: number; detail: string }> =
  {
    unreachable: {
      status: 503,
      retryAfter: 1,
      detail: 'The data store is unavailable; retry shortly.',
    },
    outcome_unknown: {
      status: 503,
      retryAfter: 1,
      detail:
        'The write may or may not have been applied (the data store stopped answering after it was ' +
        'sent, or too few replicas confirmed it in time). Retry with the same Idempotency-Key (or ' +
        'read the resource) before writing again.',
    },
    out_of_memory: {
      status: 507,
      retryAfter: 30,
      detail: 'The data store is full (maxmemory reached); nothing was written. Reads still work.',
    },
    read_only: {
      status: 503,
      retryAfter: 2,
      detail: 'The data store is read-only (a failover is in progress); nothing was written.',
    },
    loading: {
      status: 503,
      retryAfter: 5,
      detail: 'The data store is loading its data after a restart; retry shortly.',
    },
    busy: {
      status: 503,
      retryAfter: 1,
      detail: 'The data store is busy with a long-running script; retry shortly.',
    },
    persistence_failing: {
      status: 503,
      retryAfter: 30,
      detail: 'The data store refuses writes because it cannot persist them; nothing was written.',
    },
    cluster_reconfiguring: {
      status: 503,
      retryAfter: 1,
      detail:
        'The data store cluster is moving data between nodes; nothing was written. Retry shortly.',
    },
    replicas_missing: {
      status: 503,
      retryAfter: 2,
      detail:
        'The data store refuses writes while too few replicas are connected; nothing was written.',
    },
  };

function storeFailure(failure: StoreFailure): Mapped {
  const known = STORE_FAILURES[failure];
  return {
    status: known.status,
    slug:
      failure === 'out_of_memory'
        ? 'store-full'
        : failure === 'outcome_unknown'
          ? 'write-outcome-unknown'
          : 'store-unavailable',
    // The one failure after which the caller must not simply write again says so in its title.
    title: failure === 'outcome_unknown' ? 'Write Outcome Unknown' : titleFor(known.status),
    detail: known.detail,
    extensions: { store_failure: failure },
    headers: { 'retry-after': String(known.retryAfter) },
  };
}

/** Extra members an HttpException carried (e.g. health check results), minus Nest's own ones. */
function extensionsOf(body: string | object): Record<string, unknown> | undefined {
  if (typeof body !== 'object') return undefined;
  const { message: _m, error: _e, statusCode: _s, ...rest } = body as Record<string, unknown>;
  return Object.keys(rest).length > 0 ? rest : undefined;
}

function titleFor(status: number): string {
  const name = HttpStatus[status];
  if (!name) return 'Error';
  return name
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}

function slugFor(status: number): string {
  return (HttpStatus[status] ?? 'error').toLowerCase().replace(/_/g, '-');
}

export interface ProblemResponse {
  body: ProblemDetails;
  headers: Record<string, string>;
}

export function toProblem(
  error: unknown,
  instance: string,
  requestId: string,
  context: ProblemContext = {},
): ProblemResponse {
  const mapped = map(error, context);
  return {
    body: {
      // Extensions first: they may add members but never override the standard ones.
      ...mapped.extensions,
      type: problemType(mapped.slug),
      title: mapped.title,
      status: mapped.status,
      detail: mapped.detail,
      instance,
      request_id: requestId,
    },
    headers: mapped.headers ?? {},
  };
}
