import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import { register, type Counter, type Histogram } from 'prom-client';
import type { AuthenticatedRequest } from '../auth/principal';
import type { RequestLogLine } from '../common/logging/log-serializers';
import { redactUrl } from '../common/logging/redact-url';
import { PROBLEM_CONTENT_TYPE } from '../common/filters/problem-details';
import { traceIdOf, type Tracing } from '../tracing/tracing';
import { apiMetrics } from './prometheus.metrics';
import type { RequestRollups } from './request-rollups';
import type { StoreGauges } from './store-gauges';

/** Path of the Prometheus scrape endpoint: outside /api/v1, not in the API's OpenAPI document. */
export const METRICS_PATH = '/metrics';
/** Route label of requests that matched no route (404s of arbitrary paths stay one series). */
export const UNMATCHED_ROUTE = 'unmatched';
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

export interface ObservabilityOptions {
  rollups: RequestRollups;
  gauges: StoreGauges;
  /** The application's root logger (the request line names its request_id itself). */
  logger: PinoLogger;
  metricsToken?: string;
  tenantLabel: boolean;
  tracing?: Tracing;
}

interface Series {
  count: Counter.Internal;
  duration: Histogram.Internal<string>;
}

/** Label children of one route and method, made on its first request and reused after. */
interface RouteSeries {
  endpoint: string;
  route: string;
  quiet: boolean;
  byClass: Map<string, Series[]>;
  requestSize: Histogram.Internal<string>;
  responseSize: Histogram.Internal<string>;
}

const SPAN = Symbol('masa.span');
type Traced = FastifyRequest & { [SPAN]?: ReturnType<Tracing['startRequest']>['span'] };

/**
 * Request metrics, the request log line and tracing as Fastify hooks rather than a Nest
 * interceptor: guards run before interceptors, so the 401, 403 and 429 a guard throws (and 404s of
 * unknown paths, and body-parser 400/413/415) would never reach one. `onResponse` sees every
 * response exactly once, after it is sent.
 */
export function installObservability(
  fastify: FastifyInstance,
  options: ObservabilityOptions,
): void {
  const metrics = apiMetrics();
  const { rollups, tracing, tenantLabel } = options;
  // The request line is flat and built from fields that are safe by construction (the URL through
  // redactUrl, no headers), so the root logger's redaction paths (all nested, `*.password`...) can
  // never match it; walking them for every line cost more than writing it.
  const accessLog = options.logger.child({}, { redact: [] });
  const inFlight = metrics.httpInFlight;
  const leave = () => inFlight.dec();
  const routes = new Map<string, Map<string, RouteSeries>>();

  const seriesOf = (method: string, route: string): RouteSeries => {
    let methods = routes.get(route);
    if (methods === undefined) {
      methods = new Map<string, RouteSeries>();
      routes.set(route, methods);
    }
    let series = methods.get(method);
    if (series === undefined) {
      series = {
        endpoint: `${method} ${route}`,
        route,
        quiet: route === METRICS_PATH || route.startsWith('/api/v1/health'),
        byClass: new Map(),
        requestSize: metrics.httpRequestSize.labels(method, route),
        responseSize: metrics.httpResponseSize.labels(method, route),
      };
      methods.set(method, series);
    }
    return series;
  };
  const classSeries = (series: RouteSeries, method: string, tenant: string): Series[] => {
    let byClass = series.byClass.get(tenant);
    if (byClass === undefined) {
      byClass = STATUS_CLASSES.map((statusClass) => {
        const labels = tenantLabel
          ? { method, route: series.route, status_class: statusClass, tenant }
          : { method, route: series.route, status_class: statusClass };
        return {
          count: metrics.httpRequests.labels(labels),
          duration: metrics.httpDuration.labels(labels),
        };
      });
      series.byClass.set(tenant, byClass);
    }
    return byClass;
  };

  fastify.addHook('onRequest', (request, reply, done) => {
    inFlight.inc();
    reply.raw.on('close', leave);
    if (tracing === undefined) return done();
    const { span, context } = tracing.startRequest(request.method, request.headers);
    (request as Traced)[SPAN] = span;
    const traceparent = tracing.traceparent(span);
    void reply.header('traceparent', traceparent);
    // Whatever reads the trace id from the request's traceparent (the audit log) gets this trace's,
    // also when the caller sent none.
    request.headers.traceparent = traceparent;
    tracing.within(context, done, request.raw);
  });

  fastify.addHook('onResponse', (request, reply, done) => {
    const method = request.method;
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    const status = reply.statusCode;
    const ms = reply.elapsedTime;
    const { principal } = request as AuthenticatedRequest;
    const series = seriesOf(method, route);
    const byClass = classSeries(series, method, tenantLabel ? (principal?.tenant ?? 'none') : '');
    const timed = byClass[Math.min(Math.max(Math.floor(status / 100), 1), 5) - 1];
    timed.count.inc();
    timed.duration.observe(ms / 1000);
    const requestBytes = request.headers['content-length'];
    if (requestBytes !== undefined) series.requestSize.observe(Number(requestBytes));
    const responseBytes = reply.getHeader('content-length');
    if (responseBytes !== undefined) series.responseSize.observe(Number(responseBytes));
    if (route !== METRICS_PATH)
      rollups.record(series.endpoint, status, ms, principal?.tenant, principal?.sub);

    const span = (request as Traced)[SPAN];
    if (span !== undefined) {
      span.updateName(series.endpoint);
      span.setAttribute('http.route', route);
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: 2 /* SpanStatusCode.ERROR */ });
      span.end();
    }
    if (!series.quiet) logRequest(request, reply, series, ms, principal, span, accessLog);
    done();
  });

  const expected = options.metricsToken === undefined ? undefined : digest(options.metricsToken);
  fastify.get(METRICS_PATH, async (request, reply) => {
    if (expected !== undefined && !bearerMatches(request.headers.authorization, expected)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="metrics"')
        .type(PROBLEM_CONTENT_TYPE)
        .send({
          type: 'urn:masa:problem:unauthorized',
          title: 'Unauthorized',
          status: 401,
          detail: 'GET /metrics requires the METRICS_TOKEN bearer token.',
          instance: METRICS_PATH,
          request_id: request.id,
        });
    }
    await options.gauges.refresh();
    return reply.type(register.contentType).send(await register.metrics());
  });
}

function logRequest(
  request: FastifyRequest,
  reply: FastifyReply,
  series: RouteSeries,
  ms: number,
  principal: AuthenticatedRequest['principal'],
  span: Traced[typeof SPAN],
  log: PinoLogger,
): void {
  const status = reply.statusCode;
  const level = status >= 500 ? 'error' : 'info';
  if (!log.isLevelEnabled(level)) return;
  const line: RequestLogLine = {
    request_id: request.id,
    method: request.method,
    url: redactUrl(request.url),
    route: series.route,
    status,
    duration_ms: Math.round(ms * 1000) / 1000,
    tenant: principal?.tenant,
    sub: principal?.sub,
    trace_id: span?.spanContext().traceId ?? traceIdOf(request.headers.traceparent),
  };
  log[level](line, 'request completed');
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time: both sides are hashed to 32 bytes before comparing. */
function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const match = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header);
  return match !== null && timingSafeEqual(digest(match[1]), expected);
}
