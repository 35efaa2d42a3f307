import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

// A caller's id is echoed only when it is short and plain: it ends up in logs and headers.
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Fastify's genReqId: reuse a well-formed X-Request-Id from the caller, else mint a UUID. The chosen
 * id is written back onto the raw request so the HTTP logger reads the same value.
 */
export function assignRequestId(request: IncomingMessage): string {
  const offered = request.headers[REQUEST_ID_HEADER];
  const id =
    typeof offered === 'string' && ACCEPTABLE_REQUEST_ID.test(offered) ? offered : randomUUID();
  request.headers[REQUEST_ID_HEADER] = id;
  return id;
}
