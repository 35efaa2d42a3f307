import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
  type HeadersObject,
  type ResponseObject,
} from '@nestjs/swagger';

export class FieldProblemDto {
  @ApiProperty({ example: 'limit', maxLength: 256 })
  field!: string;

  @ApiProperty({ example: 'limit must be an integer between 1 and 100', maxLength: 2048 })
  message!: string;
}

/**
 * RFC 9457 problem details, as every error response of this API is shaped. Extension members
 * (`errors`, `store_failure`, a health report's `info`/`error`/`details`) may be added, never the
 * standard ones overridden.
 */
export class ProblemDetailsDto {
  @ApiProperty({
    example: 'urn:masa:problem:validation-error',
    pattern: '^urn:masa:problem:[a-z0-9-]+$',
    maxLength: 64,
  })
  type!: string;

  @ApiProperty({ example: 'Bad Request', maxLength: 64 })
  title!: string;

  @ApiProperty({ example: 400, minimum: 400, maximum: 599, format: 'int32' })
  status!: number;

  @ApiProperty({
    example: 'limit: limit must be an integer between 1 and 100',
    maxLength: 65536,
  })
  detail!: string;

  @ApiProperty({ example: '/api/v1/sessions', maxLength: 8192 })
  instance!: string;

  @ApiProperty({ example: '0f8c3d4e-2b1a-4c5d-9e8f-7a6b5c4d3e2f', maxLength: 128 })
  request_id!: string;

  @ApiPropertyOptional({
    type: [FieldProblemDto],
    maxItems: 1000,
    description: 'One entry per offending field; a missing one says "<field> is required".',
  })
  errors?: FieldProblemDto[];

  @ApiPropertyOptional({
    maxLength: 32,
    pattern: '^[a-z_]+$',
    description: 'On 503/507: which store failure class (unreachable, read_only, out_of_memory…).',
    example: 'unreachable',
  })
  store_failure?: string;
}

const RETRY_AFTER = {
  'Retry-After': {
    description: 'Seconds to wait before retrying.',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 86400 },
  },
} as const satisfies HeadersObject;

/** What each status means on this API; statuses not listed here are not documented. */
const PROBLEMS: Record<number, { description: string; headers?: HeadersObject }> = {
  400: { description: 'Invalid input; `errors` names each offending field.' },
  401: {
    description: 'Missing or invalid bearer token or API key; WWW-Authenticate says why.',
    headers: {
      'WWW-Authenticate': {
        description:
          'RFC 6750, e.g. Bearer realm="api", error="invalid_token", ' +
          'error_description="the token has expired".',
        schema: { type: 'string', maxLength: 512, pattern: '^Bearer realm="api"' },
      },
    },
  },
  403: { description: 'The token is valid but its roles or scopes do not grant this route.' },
  404: { description: 'No such resource (in your tenant).' },
  409: { description: 'Conflicts with the current state.' },
  410: {
    description:
      'The resume position is older than the retention; `oldest_available_id` says where the feed now starts.',
  },
  412: { description: 'If-Match does not match the current version; nothing was written.' },
  413: {
    description:
      'Payload larger than the configured limit; the detail names the limit and setting.',
  },
  415: { description: 'Unsupported Content-Type; the detail names the accepted types.' },
  422: {
    description: 'This Idempotency-Key was already used with a different request body.',
  },
  429: {
    description:
      "Rate limit of this route's class exceeded (per tenant and subject), or too many failed " +
      'authentications from this client IP; retry after Retry-After seconds.',
    headers: RETRY_AFTER,
  },
  500: { description: 'Unexpected error; quote the request_id when reporting it.' },
  503: {
    description:
      'The data store is unavailable, read-only, loading or busy; retry after Retry-After seconds.',
    headers: RETRY_AFTER,
  },
  507: {
    description: 'The data store is full (maxmemory reached); nothing was written.',
    headers: RETRY_AFTER,
  },
};

/**
 * The response object of a problem status, for statuses the document builder adds to every
 * operation of a kind (413/415 to every operation that takes a body).
 */
export function problemResponse(status: number): ResponseObject {
  const known = PROBLEMS[status];
  if (!known) throw new Error(`problemResponse: no description for status ${status}`);
  return {
    description: known.description,
    headers: known.headers,
    content: {
      'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDetailsDto) } },
    },
  };
}

/** One problem+json response, as ApiProblems and RequirePermissions document them. */
export function ApiProblem(status: number, description?: string): MethodDecorator & ClassDecorator {
  const known = PROBLEMS[status];
  if (!known) throw new Error(`ApiProblem: no description for status ${status}`);
  return applyDecorators(
    ApiExtraModels(ProblemDetailsDto),
    ApiResponse({
      status,
      description: description ?? known.description,
      headers: known.headers,
      content: {
        'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDetailsDto) } },
      },
    }),
  );
}

/**
 * Documents the problem+json responses a route can give beyond authentication (401/403/429 come
 * with RequirePermissions). 500 and 503 are implied for every data route; 507 for every write.
 */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  const all = [...new Set([...statuses, 500, 503])].sort((a, b) => a - b);
  return applyDecorators(...all.map((status) => ApiProblem(status)));
}
