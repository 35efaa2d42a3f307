import type { IncomingMessage } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { REQUEST_ID_HEADER } from '../http/request-id';

/** Query parameters whose values are credentials (matched case-insensitively). */
const SECRET_QUERY = /^(access_token|api_key|apikey|token|secret|password|client_secret|key)$/i;

/** The URL with credential-bearing query values replaced, for log lines. */
export function redactUrl(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) return url;
  const pairs = url
    .slice(query + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals < 0 ? pair : pair.slice(0, equals);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // a malformed escape is logged as sent, minus any value
      }
      return equals >= 0 && SECRET_QUERY.test(decoded) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, query)}?${pairs.join('&')}`;
}

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
 * nestjs-pino settings over the root logger: pino-http only provides the per-request child logger
 * (one child per request; what services log during a request carries `req` with its id) and logs
 * nothing itself. The request line is written once per response by the observability hook.
 */
export function pinoParams(logger: Logger): Params {
  return {
    forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
    pinoHttp: {
      logger,
      genReqId: (request: IncomingMessage) => String(request.headers[REQUEST_ID_HEADER]),
      autoLogging: false,
      serializers: {
        req: (request: { id?: unknown; method?: string; url?: string }) => ({
          request_id: request.id,
          method: request.method,
          url: redactUrl(request.url ?? ''),
        }),
      },
    },
  };
}

function prettyAvailable(): boolean {
  try {
    require.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
