import compress from '@fastify/compress';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyServerOptions } from 'fastify';
import { SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { constants as zlibConstants } from 'node:zlib';
import { Logger } from 'nestjs-pino';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { DestinationStream, Logger as PinoRootLogger } from 'pino';
import { createRootLogger } from './common/logging/log-serializers';
import { AppModule } from './app.module';
import { assertEveryRouteDeclaresAccess } from './auth/route-access.check';
import { listRoutes } from './auth/route-inventory';
import type { AppConfig } from './config/app-config';
import { assignRequestId, REQUEST_ID_HEADER } from './common/http/request-id';
import { securityHeaders } from './common/http/security-headers';
import { installRateLimitVerdict } from './throttling/rate-limit-verdict.hook';
import { RequestValidationError } from './common/validation/request-validation.error';
import { BoundedValidationPipe } from './common/validation/bounded-validation.pipe';
import { ShutdownState } from './lifecycle/shutdown-state';
import { UNPREFIXED_ROUTES } from './dashboard/dashboard.routes';
import { installObservability } from './metrics/http-observability';
import { collectProcessMetrics } from './metrics/prometheus.metrics';
import { RequestRollups } from './metrics/request-rollups';
import { StoreGauges } from './metrics/store-gauges';
import { observeRedisCommands } from './metrics/store-metrics';
import { Tracing } from './tracing/tracing';
import { ACCEPTED_BODY_TYPES, registerJsonParser } from './common/http/json-body';
import { answerClientError, answerFrameworkError } from './common/http/framework-errors';
import { buildOpenApiDocument as buildDocument } from './common/swagger/openapi-document';

export const API_PREFIX = 'api/v1';

/** What tests may swap; production passes nothing. */
export interface AppOverrides {
  /** Tests: export spans here (synchronously) instead of over OTLP. */
  spanExporter?: SpanExporter;
  /** Tests: write the JSON log lines here instead of stdout. */
  logDestination?: DestinationStream;
}

/**
 * Builds the whole application (used by main.ts, the e2e tests and the OpenAPI export), so what
 * the tests drive is exactly what runs in production. Does not listen.
 */
export async function createApp(
  config: AppConfig,
  overrides: AppOverrides = {},
): Promise<NestFastifyApplication> {
  const rootLogger = createRootLogger(
    config.logging.level,
    config.env === 'development',
    overrides.logDestination,
  );
  const options: FastifyServerOptions = {
    bodyLimit: config.http.bodyLimitBytes,
    trustProxy: config.http.trustProxy,
    genReqId: assignRequestId,
    requestIdHeader: false,
    // Invalid or hostile JSON (`__proto__`, `constructor.prototype`) is refused by the parser.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Cache keys may be 250 characters (Fastify's default is 100, answered with 414).
    routerOptions: { maxParamLength: 256 },
    // Errors Fastify answers before any hook or Nest filter runs: problem+json like the rest.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  };
  const tls = config.http.tls;
  // TLS 1.3 only (the plan's transport), HTTP/2 with HTTP/1.1 for clients that do not offer h2.
  const adapter = tls
    ? new FastifyAdapter({
        ...options,
        http2: true,
        https: { ...tls, minVersion: 'TLSv1.3', allowHTTP1: true },
      })
    : new FastifyAdapter(options);
  // The first onSend hook: the hooks after it see the answer that is sent (see its comment).
  installRateLimitVerdict(adapter.getInstance());
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(
      config,
      rootLogger,
      config.observability.otlpEndpoint !== undefined || overrides.spanExporter !== undefined,
    ),
    adapter,
    {
      bufferLogs: true,
      // Bodies are JSON only (see registerJsonParser); Nest's parsers would also read forms.
      bodyParser: false,
    },
  );
  app.useLogger(app.get(Logger));
  assertEveryRouteDeclaresAccess(listRoutes(app, API_PREFIX));

  const fastify = app.getHttpAdapter().getInstance();
  // JSON only: a text/plain or form body is a 415, not a string for the validators to puzzle over.
  fastify.removeContentTypeParser(['text/plain']);
  const shutdown = app.get(ShutdownState);
  for (const type of ACCEPTED_BODY_TYPES) registerJsonParser(fastify, type);
  // helmet's headers, worked out once (see securityHeaders). Swagger UI needs inline scripts and
  // styles on /docs only; the API itself serves JSON, so no Content-Security-Policy.
  const security = await securityHeaders({ contentSecurityPolicy: false });
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.headers(security).header(REQUEST_ID_HEADER, request.id);
    shutdown.requestStarted();
    // 'close' fires for finished and aborted responses alike.
    reply.raw.once('close', () => shutdown.requestFinished());
    done();
  });
  // While shutting down, keep-alive clients are asked to reconnect (to another replica).
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (shutdown.draining) void reply.header('connection', 'close');
    done(null, payload);
  });
  installAppObservability(app, config, overrides, rootLogger);

  if (config.cors.origins.length > 0) {
    app.enableCors({
      origin: config.cors.origins,
      allowedHeaders: [
        'Authorization',
        'Content-Type',
        'If-Match',
        'Idempotency-Key',
        'X-Request-Id',
        'X-API-Key',
      ],
      exposedHeaders: [
        'ETag',
        'Location',
        'Retry-After',
        'X-Request-Id',
        'X-RateLimit-Limit',
        'X-RateLimit-Remaining',
        'X-RateLimit-Reset',
      ],
    });
  }
  if (config.http.compressionMinBytes > 0) {
    await app.register(compress, {
      encodings: ['br', 'gzip'],
      // Responses only. Compressed request bodies are refused with 415: they are no use to an
      // orchestrator's small JSON writes, a decompression bomb would slip under the body limit, and
      // a body sent as gzip that is not gzip failed inside the decompressor as a 500 (fuzzing).
      requestEncodings: ['identity'],
      threshold: config.http.compressionMinBytes,
      // Brotli's default quality (11) costs more CPU than a list response is worth; 4 still beats
      // gzip on JSON at a fraction of the time.
      brotliOptions: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 } },
    });
  }

  app.setGlobalPrefix(API_PREFIX, { exclude: UNPREFIXED_ROUTES });
  app.useGlobalPipes(
    new BoundedValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      stopAtFirstError: false,
      exceptionFactory: (errors) => RequestValidationError.fromClassValidator(errors),
    }),
  );
  // No enableShutdownHooks(): main.ts installs the graceful shutdown (lifecycle/graceful-shutdown.ts)
  // so that the listener drains before the modules' shutdown hooks run.

  if (config.swagger.enabled) {
    SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app, config), {
      jsonDocumentUrl: 'docs-json',
      yamlDocumentUrl: 'docs-yaml',
      swaggerOptions: { persistAuthorization: true },
    });
  }
  return app;
}

/** Prometheus metrics, the request log line and (when configured) tracing; see installObservability. */
function installAppObservability(
  app: NestFastifyApplication,
  config: AppConfig,
  overrides: AppOverrides,
  logger: PinoRootLogger,
): void {
  collectProcessMetrics();
  const releaseCommands = observeRedisCommands();
  const { observability } = config;
  const tracing =
    observability.otlpEndpoint !== undefined || overrides.spanExporter !== undefined
      ? new Tracing({
          serviceName: observability.serviceName,
          version: config.version,
          otlpEndpoint: observability.otlpEndpoint,
          exporter: overrides.spanExporter,
        })
      : undefined;
  const fastify = app.getHttpAdapter().getInstance();
  installObservability(fastify, {
    rollups: app.get(RequestRollups),
    gauges: app.get(StoreGauges),
    logger,
    metricsToken: observability.metricsToken,
    tenantLabel: observability.tenantLabel,
    tracing,
  });
  // Ends with the server, after Nest's shutdown hooks flushed the rollups.
  fastify.addHook('onClose', async () => {
    releaseCommands();
    await tracing?.shutdown();
  });
}

/** The OpenAPI document of this app (served at /docs, exported to docs/api/openapi.yaml). */
export function buildOpenApiDocument(
  app: NestFastifyApplication,
  config: AppConfig,
): OpenAPIObject {
  return buildDocument(app, config.version);
}
