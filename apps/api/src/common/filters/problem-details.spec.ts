import {
  BadRequestException,
  ForbiddenException,
  HttpException,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { StoreUnavailableError } from '@app/redis';
import {
  ConflictError,
  InvalidRequestError,
  PayloadTooLargeError,
  ResourceNotFoundError,
  VersionMismatchError,
} from '../errors/domain-errors';
import { RequestValidationError } from '../validation/request-validation.error';
import { PROBLEM_CONTENT_TYPE, toProblem, type ProblemResponse } from './problem-details';

const INSTANCE = '/v1/sessions/0b9f8c1e-8a43-4c55-9d3b-8e3c1a2f6d10';
const REQUEST_ID = 'req-123';

function problemFor(error: unknown): ProblemResponse {
  return toProblem(error, INSTANCE, REQUEST_ID);
}

/** The RFC 9457 members every problem carries, plus our request_id. */
function expectStandardMembers(
  response: ProblemResponse,
  status: number,
  slug: string,
  title: string,
): void {
  const { body } = response;
  expect(body.type).toBe(`urn:masa:problem:${slug}`);
  expect(body.title).toBe(title);
  expect(body.status).toBe(status);
  expect(typeof body.detail).toBe('string');
  expect(body.detail.length).toBeGreaterThan(0);
  expect(body.instance).toBe(INSTANCE);
  expect(body.request_id).toBe(REQUEST_ID);
}

describe('toProblem', () => {
  it('uses the RFC 9457 media type', () => {
    expect(PROBLEM_CONTENT_TYPE).toBe('application/problem+json');
  });

  describe('RequestValidationError', () => {
    it('maps to 400 validation-error with the list of field problems', () => {
      const problems = [
        { field: 'metadata.goal', message: 'goal must be a string' },
        { field: 'ttl_seconds', message: 'ttl_seconds must not be less than 60' },
      ];
      const response = problemFor(new RequestValidationError(problems));
      expectStandardMembers(response, 400, 'validation-error', 'Bad Request');
      expect(response.body.errors).toEqual(problems);
      expect(response.body.detail).toBe(
        'metadata.goal: goal must be a string; ttl_seconds: ttl_seconds must not be less than 60',
      );
      expect(response.headers).toEqual({});
    });
  });

  describe('domain errors', () => {
    it('maps ResourceNotFoundError to 404 not-found', () => {
      const response = problemFor(new ResourceNotFoundError('session', 'abc'));
      expectStandardMembers(response, 404, 'not-found', 'Not Found');
      expect(response.body.detail).toBe('session abc was not found');
      expect(response.body.errors).toBeUndefined();
      expect(response.headers).toEqual({});
    });

    it('maps VersionMismatchError to 412 version-mismatch', () => {
      const response = problemFor(new VersionMismatchError(3, 5));
      expectStandardMembers(response, 412, 'version-mismatch', 'Precondition Failed');
      expect(response.body.detail).toBe(
        'If-Match expected version 3, but the current version is 5',
      );
    });

    it('maps PayloadTooLargeError to 413 payload-too-large', () => {
      const response = problemFor(new PayloadTooLargeError(['metadata', 'state'], 300000, 262144));
      expectStandardMembers(response, 413, 'payload-too-large', 'Payload Too Large');
      expect(response.body.detail).toBe('metadata + state take 300000 bytes; the limit is 262144');
    });

    it('maps InvalidRequestError to 400 validation-error with its errors list', () => {
      const response = problemFor(
        InvalidRequestError.field('cursor', 'is not a cursor returned by this API'),
      );
      expectStandardMembers(response, 400, 'validation-error', 'Bad Request');
      expect(response.body.errors).toEqual([
        { field: 'cursor', message: 'is not a cursor returned by this API' },
      ]);
      expect(response.body.detail).toBe('cursor: is not a cursor returned by this API');
    });

    it('maps ConflictError to 409 conflict', () => {
      const response = problemFor(new ConflictError('session abc already exists'));
      expectStandardMembers(response, 409, 'conflict', 'Conflict');
      expect(response.body.detail).toBe('session abc already exists');
      expect(response.body.errors).toBeUndefined();
    });
  });

  describe('StoreUnavailableError', () => {
    it('maps to 503 store-unavailable with Retry-After and without the internal reason', () => {
      const response = problemFor(new StoreUnavailableError('connect ECONNREFUSED 10.0.0.5:6379'));
      expectStandardMembers(response, 503, 'store-unavailable', 'Service Unavailable');
      expect(response.headers).toEqual({ 'retry-after': '1' });
      expect(response.body.detail).toBe('The data store is unavailable; retry shortly.');
      expect(JSON.stringify(response.body)).not.toContain('10.0.0.5');
      expect(response.body.store_failure).toBe('unreachable');
    });

    it('answers a full Redis (OOM) with 507 store-full and a longer Retry-After', () => {
      const response = problemFor(
        new StoreUnavailableError('OOM command not allowed', 'out_of_memory'),
      );
      expectStandardMembers(response, 507, 'store-full', 'Insufficient Storage');
      expect(response.headers).toEqual({ 'retry-after': '30' });
      expect(response.body.detail).toContain('nothing was written');
    });

    it('tells the caller a lost write reply may have been applied and how to retry safely', () => {
      const response = problemFor(
        new StoreUnavailableError('Command timed out', 'outcome_unknown'),
      );
      expectStandardMembers(response, 503, 'write-outcome-unknown', 'Write Outcome Unknown');
      expect(response.body.store_failure).toBe('outcome_unknown');
      expect(response.body.detail).toContain('may or may not have been applied');
      expect(response.body.detail).toContain('Idempotency-Key');
    });

    it.each([
      ['read_only', '2'],
      ['loading', '5'],
      ['busy', '1'],
      ['persistence_failing', '30'],
      ['cluster_reconfiguring', '1'],
      ['replicas_missing', '2'],
    ] as const)('answers %s with 503 and Retry-After %s', (failure, retryAfter) => {
      const response = problemFor(new StoreUnavailableError('x', failure));
      expectStandardMembers(response, 503, 'store-unavailable', 'Service Unavailable');
      expect(response.headers).toEqual({ 'retry-after': retryAfter });
      expect(response.body.store_failure).toBe(failure);
    });
  });

  describe('Nest HttpException', () => {
    it('maps NotFoundException to 404 with its message as detail', () => {
      const response = problemFor(new NotFoundException('Cannot GET /nope'));
      expectStandardMembers(response, 404, 'not-found', 'Not Found');
      expect(response.body.detail).toBe('Cannot GET /nope');
      // Nest's own members (message, error, statusCode) are not copied as extensions.
      expect(response.body).not.toHaveProperty('message');
      expect(response.body).not.toHaveProperty('error');
      expect(response.body).not.toHaveProperty('statusCode');
    });

    it('maps a NotFoundException without a message to "Not Found"', () => {
      const response = problemFor(new NotFoundException());
      expectStandardMembers(response, 404, 'not-found', 'Not Found');
      expect(response.body.detail).toBe('Not Found');
    });

    it('derives title and slug from the status (403 Forbidden)', () => {
      const response = problemFor(new ForbiddenException('missing permission sessions:delete'));
      expectStandardMembers(response, 403, 'forbidden', 'Forbidden');
      expect(response.body.detail).toBe('missing permission sessions:delete');
    });

    it('uses a string response body as detail', () => {
      const response = problemFor(new HttpException('Too many requests, slow down', 429));
      expectStandardMembers(response, 429, 'too-many-requests', 'Too Many Requests');
      expect(response.body.detail).toBe('Too many requests, slow down');
    });

    it('keeps the extra members of an object body (ServiceUnavailableException) as extensions', () => {
      const info = { redis: { status: 'up' } };
      const details = { redis: { status: 'down', message: 'timeout' } };
      const response = problemFor(
        new ServiceUnavailableException({ status: 'error', info, details }),
      );
      expectStandardMembers(response, 503, 'service-unavailable', 'Service Unavailable');
      expect(response.body.info).toEqual(info);
      expect(response.body.details).toEqual(details);
      // The standard `status` wins over the body's own `status: 'error'`.
      expect(response.body.status).toBe(503);
      expect(response.headers).toEqual({});
    });

    it('never lets extensions override the standard members', () => {
      const response = problemFor(
        new ServiceUnavailableException({
          type: 'https://evil.example/',
          title: 'hijacked',
          status: 200,
          detail: 'hijacked',
          instance: '/other',
          request_id: 'forged',
          extra: 1,
        }),
      );
      expectStandardMembers(response, 503, 'service-unavailable', 'Service Unavailable');
      expect(response.body.detail).not.toBe('hijacked');
      expect(response.body.extra).toBe(1);
    });

    it('takes detail from the object body message when it is a string', () => {
      const response = problemFor(
        new BadRequestException({ message: 'bad thing', hint: 'try again' }),
      );
      expectStandardMembers(response, 400, 'bad-request', 'Bad Request');
      expect(response.body.detail).toBe('bad thing');
      expect(response.body.hint).toBe('try again');
      expect(response.body).not.toHaveProperty('message');
    });

    it('falls back to a generic title and slug for a status Nest does not name', () => {
      const response = problemFor(new HttpException('client went away', 499));
      expectStandardMembers(response, 499, 'error', 'Error');
      expect(response.body.detail).toBe('client went away');
    });
  });

  describe('Fastify errors', () => {
    const fastifyError = (code: string, statusCode: number, message: string) =>
      Object.assign(new Error(message), { code, statusCode });

    it('maps FST_ERR_CTP_BODY_TOO_LARGE to 413 with a BODY_LIMIT hint', () => {
      const response = problemFor(
        fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413, 'Request body is too large'),
      );
      expectStandardMembers(response, 413, 'payload-too-large', 'Payload Too Large');
      expect(response.body.detail).toBe(
        'The request body is larger than this route accepts (BODY_LIMIT).',
      );
    });

    it('recognises the same errors when Nest has wrapped them in an HttpException', () => {
      const tooLarge = toProblem(
        new HttpException('Request body is too large', 413),
        INSTANCE,
        REQUEST_ID,
        { bodyLimit: { bytes: 2048, setting: 'CACHE_MAX_VALUE_BYTES' } },
      );
      expect(tooLarge.body.detail).toBe(
        'The request body is larger than 2048 bytes, the limit of this route; send less, or raise CACHE_MAX_VALUE_BYTES.',
      );
      const mediaType = problemFor(new HttpException('Unsupported Media Type', 415));
      expect(mediaType.body.detail).toMatch(/^Send the body as application\/json/);
    });

    it('names the limit in bytes and the setting that raises it when the route is known', () => {
      const response = toProblem(
        fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413, 'Request body is too large'),
        INSTANCE,
        REQUEST_ID,
        { bodyLimit: { bytes: 65536, setting: 'BODY_LIMIT' } },
      );
      expect(response.body.detail).toBe(
        'The request body is larger than 65536 bytes, the limit of this route; send less, or raise BODY_LIMIT.',
      );
    });

    it.each([
      [
        'FST_ERR_CTP_INVALID_MEDIA_TYPE',
        415,
        'unsupported-media-type',
        'Unsupported Media Type',
        /application\/json/,
      ],
      ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, 'bad-request', 'Bad Request', /empty/],
      ['FST_ERR_CTP_INVALID_JSON_BODY', 400, 'bad-request', 'Bad Request', /not valid JSON/],
    ])('maps %s to %i with its own detail', (code, status, slug, title, detail) => {
      const response = problemFor(fastifyError(code, status, 'raw fastify text'));
      expectStandardMembers(response, status, slug, title);
      expect(response.body.detail).toMatch(detail);
      expect(response.body.detail).not.toBe('raw fastify text');
    });

    it("uses the error's message for a 4xx Fastify code without a mapped detail", () => {
      const response = problemFor(fastifyError('FST_ERR_OTHER', 400, 'Body cannot be empty'));
      expectStandardMembers(response, 400, 'bad-request', 'Bad Request');
      expect(response.body.detail).toBe('Body cannot be empty');
    });

    it('treats a 5xx Fastify error as an internal error (its message stays hidden)', () => {
      const response = problemFor(fastifyError('FST_ERR_SOMETHING', 500, 'internal fastify state'));
      expectStandardMembers(response, 500, 'internal-error', 'Internal Server Error');
      expect(response.body.detail).not.toContain('internal fastify state');
    });

    it('does not treat a plain object with code and statusCode as a Fastify error', () => {
      const response = problemFor({
        code: 'FST_ERR_CTP_BODY_TOO_LARGE',
        statusCode: 413,
        message: 'x',
      });
      expectStandardMembers(response, 500, 'internal-error', 'Internal Server Error');
    });
  });

  describe('unknown errors', () => {
    it('maps an unknown Error to 500 without leaking its message or stack', () => {
      const error = new Error('password=hunter2 at db.internal:5432');
      error.stack = 'Error: password=hunter2\n    at secretFunction (/srv/app/secret.js:1:1)';
      const response = problemFor(error);
      expectStandardMembers(response, 500, 'internal-error', 'Internal Server Error');
      expect(response.body.detail).toBe(
        'An unexpected error occurred; quote the request_id when reporting it.',
      );
      const serialized = JSON.stringify(response.body);
      expect(serialized).not.toContain('hunter2');
      expect(serialized).not.toContain('secretFunction');
      expect(serialized).not.toContain('db.internal');
      expect(response.headers).toEqual({});
    });

    it.each([
      ['a string', 'boom'],
      ['undefined', undefined],
      ['null', null],
      ['a number', 7],
    ])('maps a thrown %s to 500', (_label, thrown) => {
      const response = problemFor(thrown);
      expectStandardMembers(response, 500, 'internal-error', 'Internal Server Error');
      expect(response.body.detail).not.toContain('boom');
    });
  });

  it('copies instance and request_id as given', () => {
    const response = toProblem(new NotFoundException(), '/v1/other', 'abc-999');
    expect(response.body.instance).toBe('/v1/other');
    expect(response.body.request_id).toBe('abc-999');
  });

  it('returns only the RFC 9457 members (and request_id) when there are no extensions', () => {
    const response = problemFor(new ResourceNotFoundError('session', 'abc'));
    expect(Object.keys(response.body).sort()).toEqual([
      'detail',
      'instance',
      'request_id',
      'status',
      'title',
      'type',
    ]);
  });
});
