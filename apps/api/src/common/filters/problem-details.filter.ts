import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StoreUnavailableError } from '@app/redis';
import { REQUEST_ID_HEADER } from '../http/request-id';
import {
  PROBLEM_CONTENT_TYPE,
  toProblem,
  type ProblemContext,
  type ProblemDetails,
} from './problem-details';

/** The one place errors become HTTP: every failure leaves as application/problem+json. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(
      error,
      http.getRequest<FastifyRequest>(),
      http.getResponse<FastifyReply>(),
      this.logger,
    );
  }
}

export function sendProblem(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  logger: Logger,
): void {
  void reply.send(prepareProblem(error, request, reply, logger));
}

/**
 * Everything sendProblem does but the sending: status, headers, content type and the log line are
 * set on `reply`; the body is returned (an onSend hook answers with it in place of a payload).
 */
export function prepareProblem(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  logger: Logger,
): ProblemDetails {
  const { body, headers } = toProblem(
    error,
    request.url.split('?')[0],
    String(request.id),
    problemContext(request),
  );
  if (error instanceof StoreUnavailableError) {
    // Redis being Redis, not a bug: one line naming the failure class, no stack.
    logger.warn(
      `${request.method} ${body.instance} -> ${body.status} [${body.request_id}] store ${error.failure}: ${error.reason}`,
    );
  } else if (body.status >= 500) {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    logger.error(
      `${request.method} ${body.instance} -> ${body.status} [${body.request_id}] ${detail}`,
    );
  }
  // Also here, not only in the onRequest hook: Fastify's 404 for a path it cannot decode
  // (OPTIONS /x/%) reaches this filter without running the hooks.
  void reply
    .status(body.status)
    .headers({ ...headers, [REQUEST_ID_HEADER]: body.request_id })
    .type(PROBLEM_CONTENT_TYPE);
  return body;
}

/**
 * A route's own body limit differs from the server's only where a module raised it for its
 * payloads (the cache's write routes, from CACHE_MAX_VALUE_BYTES); that names the setting.
 */
function problemContext(request: FastifyRequest): ProblemContext {
  const serverLimit = request.server?.initialConfig?.bodyLimit;
  const routeLimit = request.routeOptions?.bodyLimit ?? serverLimit;
  if (routeLimit === undefined) return {};
  return {
    bodyLimit: {
      bytes: routeLimit,
      setting: routeLimit === serverLimit ? 'BODY_LIMIT' : 'CACHE_MAX_VALUE_BYTES',
    },
  };
}
