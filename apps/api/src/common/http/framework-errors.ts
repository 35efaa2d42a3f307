import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../filters/problem-details';
import { REQUEST_ID_HEADER } from './request-id';

/**
 * Fastify's `frameworkErrors`: a URL the router cannot decode (`%zz`, an escaped lone surrogate)
 * or a path parameter over routerOptions.maxParamLength. Without it Fastify answers these itself,
 * in its own JSON shape and without a request id; no hook or Nest filter sees them.
 */
export function answerFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const requestId = String(request.id);
  const { body, headers } = toProblem(error, request.raw.url?.split('?')[0] ?? '', requestId);
  void reply
    .status(body.status)
    .headers({ ...headers, [REQUEST_ID_HEADER]: requestId })
    .type(PROBLEM_CONTENT_TYPE)
    .send(body);
}

const CLIENT_ERRORS: Record<string, { status: number; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    detail:
      'The request headers are larger than the server accepts (16 KiB in all); send a shorter ' +
      'token or fewer headers.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    detail: 'The request was not received in time; send it again.',
  },
};

const MALFORMED = { status: 400, detail: 'The request is not valid HTTP/1.1.' };

/**
 * Node's `clientError`, for requests the HTTP parser refuses before there is a request (headers
 * over the size limit, malformed HTTP). Fastify's default answers in its own JSON without
 * `Connection: close` and then destroys the socket, so a keep-alive client sends its next request
 * on that socket and gets ECONNRESET for a request that did nothing wrong. This answers problem+json
 * with a request id, says `Connection: close`, and closes once the answer is written.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const { status, detail } = CLIENT_ERRORS[error.code ?? ''] ?? MALFORMED;
  const requestId = randomUUID();
  const body = JSON.stringify({
    type: `urn:masa:problem:${(STATUS_CODES[status] ?? 'error').toLowerCase().replace(/ /g, '-')}`,
    title: STATUS_CODES[status],
    status,
    detail,
    request_id: requestId,
  });
  socket.write(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `${REQUEST_ID_HEADER}: ${requestId}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
    () => socket.destroy(),
  );
}
