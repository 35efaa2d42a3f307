import type { Params } from 'nestjs-pino';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/** The fields of the one line logged per request (see the observability hooks). */
export interface RequestLogLine {
  request_id: string;
  method: string;
  url: string;
  route: string;
  status: number;
  duration_ms: number;
  tenant?: string;
  sub?: string;
  trace_id?: string;
}

/** Header and body paths that never reach the logs, whatever an error handler attaches. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.secret',
  '*.token',
  '*.access_token',
  '*.api_key',
];

/**
 * The application's root logger: JSON lines at LOG_LEVEL with credentials redacted. pino-pretty
 * makes development output readable when it is installed (it is optional).
 */
export function createRootLogger(
  level: string,
  pretty: boolean,
  destination?: DestinationStream,
): Logger {
  const options: LoggerOptions = {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    transport:
      pretty && destination === undefined && prettyAvailable()
        ? { target: 'pino-pretty' }
        : undefined,
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/**
 * nestjs-pino settings over the root logger, for what Nest and the services log. Bound to no route:
 * its per-request middleware (a pino-http child logger with serializers, and an AsyncLocalStorage
 * scope around the rest of the request, through Fastify's middleware layer) was a tenth of a read's
 * CPU to attach a request id that the lines written during a request carry themselves (the error
 * filter's, the auth refusal's). The request line is written once per response by the
 * observability hook.
 */
export function pinoParams(logger: Logger): Params {
  return { forRoutes: [], pinoHttp: { logger } };
}

function prettyAvailable(): boolean {
  try {
    require.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
