import helmet from '@fastify/helmet';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyServerOptions } from 'fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { assertEveryRouteDeclaresAccess } from './auth/route-access.check';
import { listRoutes } from './auth/route-inventory';
import type { AppConfig } from './config/app-config';
import { assignRequestId, REQUEST_ID_HEADER } from './common/http/request-id';
import { RequestValidationError } from './common/validation/request-validation.error';

export const API_PREFIX = 'api/v1';

/**
 * Builds the whole application (used by main.ts, the e2e tests and the OpenAPI export), so what
 * the tests drive is exactly what runs in production. Does not listen.
 */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
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
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  assertEveryRouteDeclaresAccess(listRoutes(app, API_PREFIX));

  const fastify = app.getHttpAdapter().getInstance();
  // JSON only: a text/plain body is a 415, not a string for the validators to puzzle over.
  fastify.removeContentTypeParser(['text/plain']);
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });

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
  await app.register(helmet, {
    // Swagger UI needs inline scripts and styles on /docs only; the API itself serves JSON.
    contentSecurityPolicy: false,
  });

  app.setGlobalPrefix(API_PREFIX);
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      stopAtFirstError: false,
      exceptionFactory: (errors) => RequestValidationError.fromClassValidator(errors),
    }),
  );
  app.enableShutdownHooks();

  if (config.swagger.enabled) {
    SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app, config), {
      jsonDocumentUrl: 'docs-json',
      yamlDocumentUrl: 'docs-yaml',
      swaggerOptions: { persistAuthorization: true },
    });
  }
  return app;
}

export function buildOpenApiDocument(
  app: NestFastifyApplication,
  config: AppConfig,
): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Multi-Agent Session API')
    .setDescription(
      'System API (pure data layer) that multi-agent orchestrators call to keep sessions, ' +
        'per-agent memory and a key/value cache in Redis. Errors are RFC 9457 problem+json ' +
        'with a request_id; every response carries X-Request-Id.',
    )
    .setVersion(config.version)
    .addServer('/', 'This server')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description:
        'A JWT (npm run token -- --sub orch-1 --roles orchestrator) or an API key (masa_…, ' +
        'POST /api/v1/admin/api-keys; also accepted as X-API-Key).',
    });
  return SwaggerModule.createDocument(app, builder.build());
}
