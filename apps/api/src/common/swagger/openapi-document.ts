import type { INestApplication } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import {
  DocumentBuilder,
  SwaggerModule,
  type HeadersObject,
  type OpenAPIObject,
  type OperationObject,
  type ReferenceObject,
  type ServerObject,
} from '@nestjs/swagger';
import { PUBLIC_KEY } from '../../auth/require-permissions.decorator';
import { problemResponse } from './api-problems.decorator';

// @nestjs/throttler keeps its metadata key internal: SkipThrottle() sets THROTTLER:SKIP<name>
// for the one throttler this app configures ('default').
const SKIP_THROTTLE_KEY = 'THROTTLER:SKIPdefault';

const TAGS: Record<string, string> = {
  health: 'Liveness, readiness and status of the API and its Redis (probes are public).',
  sessions: 'Orchestration sessions: config, metadata, status; versioned, with TTLs.',
  memory: "Each agent's memory per session, and queries across agents and sessions.",
  cache: 'Key/value cache entries with TTLs and tags; invalidation by key, tag or pattern.',
  audit: "The tenant's tamper-evident audit trail: search, export, verify.",
  metrics: 'Latency, throughput and usage summed over every replica.',
  subjects: 'Data-subject requests: erase or export everything held about one user.',
  admin: 'Tenant administration: API keys, backup/restore, payload re-encryption.',
  dashboard: 'The built-in operations dashboard (static files; its data calls need a token).',
};

/** Response headers documented once and referenced from every response that carries them. */
const HEADERS: HeadersObject = {
  'X-Request-Id': {
    description: 'The request id (also in problem+json bodies and the logs).',
    schema: { type: 'string', maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' },
  },
  'Access-Control-Allow-Origin': {
    description: 'Only when CORS_ORIGINS lists the Origin the request came from.',
    schema: { type: 'string', maxLength: 2048 },
  },
  'X-RateLimit-Limit': {
    description: "Requests allowed per window in this route's class (config/rate-limits.yaml).",
    schema: { type: 'integer', format: 'int32', minimum: 1, maximum: 2147483647 },
  },
  'X-RateLimit-Remaining': {
    description: 'Requests left in the current window.',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 2147483647 },
  },
  'X-RateLimit-Reset': {
    description: 'Seconds until the current window ends.',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 86400 },
  },
};

const ref = (name: string): ReferenceObject => ({ $ref: `#/components/headers/${name}` });

/**
 * Statuses answered after the rate limiter has counted the request (it runs after authentication
 * and authorization): these carry X-RateLimit-*. 401, 403 and 429 never do; 400/413/415 from the
 * body parser come before it, hence optional.
 */
const AFTER_THROTTLER = /^(2\d\d|400|404|409|412|413|422|500|503|507)$/;

/**
 * Builds the OpenAPI document from the controllers' decorators, then adds what is the same for
 * every route and so is declared once here rather than on each: the response headers every
 * response carries, the rate-limit headers of the routes the limiter counts, tags, servers and
 * the bearer scheme's rules.
 */
export function buildOpenApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Multi-Agent Session API')
    .setDescription(
      'System API (pure data layer) that multi-agent orchestrators call to keep sessions, ' +
        'per-agent memory and a key/value cache in Redis. Errors are RFC 9457 problem+json ' +
        'with a request_id; every response carries X-Request-Id. Request bodies are ' +
        'application/json (merge patches application/merge-patch+json); any other ' +
        'Content-Type is a 415 naming the accepted types. Every protected route is rate limited ' +
        'per tenant and subject (X-RateLimit-* on its answers, 429 with Retry-After past the limit).',
    )
    .setVersion(version)
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description:
        'A JWT validated per RFC8725 (JSON Web Token Best Current Practices): the algorithm ' +
        'allow-list is fixed by the configured key (HS256 for JWT_SECRET, RS256 or ES256 for a ' +
        'public key or JWKS; `none` and algorithm confusion never verify); the signature, `exp` ' +
        '(required), `nbf`, and `iss`/`aud` when JWT_ISSUER/JWT_AUDIENCE are set are checked; ' +
        '`sub` (required, 1-128 plain characters), `roles` and `tenant` are read from their ' +
        'configured claims. Tokens only in the Authorization header, never in the query string. ' +
        'Alternatively an API key (masa_…, POST /api/v1/admin/api-keys), also accepted as ' +
        'X-API-Key. Get a development token with ' +
        'TOKEN=$(npm run -s token -- --sub orch-1 --roles orchestrator).',
    });
  for (const [name, description] of Object.entries(TAGS)) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build());
  const server: ServerObject & { 'x-internal': boolean } = {
    url: '/',
    description:
      'The server this document is served from: local, staging or production alike (the API ' +
      'is internal to the orchestration platform).',
    'x-internal': true,
  };
  document.servers = [server];
  document.components = { ...document.components, headers: HEADERS };
  const throttled = throttledOperationIds(app);
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as unknown[]) {
      if (!isOperation(operation)) continue;
      if (operation.requestBody) describeBodyRefusals(operation);
      describeResponseHeaders(operation, throttled.has(operation.operationId ?? ''));
    }
  }
  return document;
}

function isOperation(value: unknown): value is OperationObject {
  return typeof value === 'object' && value !== null && 'responses' in value;
}

/**
 * Fastify's body parser answers before any route code runs, so every operation that takes a body
 * can get 413 (over BODY_LIMIT or the route's own limit) and 415 (a Content-Type it does not parse).
 */
function describeBodyRefusals(operation: OperationObject): void {
  const types = Object.keys((operation.requestBody as { content?: object }).content ?? {});
  // An NDJSON upload is read as a stream, line by line: no body limit applies, long lines are
  // reported per line.
  const streamed = types.length > 0 && types.every((type) => type === 'application/x-ndjson');
  for (const status of streamed ? [415] : [413, 415]) {
    operation.responses[String(status)] ??= problemResponse(status);
  }
  // Keep the statuses in order, as the decorators produce them.
  operation.responses = Object.fromEntries(
    Object.entries(operation.responses).sort(([a], [b]) => a.localeCompare(b)),
  );
}

function describeResponseHeaders(operation: OperationObject, throttled: boolean): void {
  for (const [status, response] of Object.entries(operation.responses)) {
    if (!response || '$ref' in response) continue;
    const headers: HeadersObject = {
      ...response.headers,
      'X-Request-Id': ref('X-Request-Id'),
      'Access-Control-Allow-Origin': ref('Access-Control-Allow-Origin'),
    };
    if (throttled && AFTER_THROTTLER.test(status)) {
      for (const name of ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']) {
        headers[name] = ref(name);
      }
    }
    response.headers = headers;
  }
}

/**
 * Operation ids (Nest's `<Controller>_<method>`) of the routes TenantThrottlerGuard counts: not
 * public and not @SkipThrottle().
 */
function throttledOperationIds(app: INestApplication): Set<string> {
  const discovery = app.get(DiscoveryService);
  const scanner = app.get(MetadataScanner);
  const reflector = app.get(Reflector);
  const ids = new Set<string>();
  for (const wrapper of discovery.getControllers()) {
    const instance = wrapper.instance as object | undefined;
    const metatype = wrapper.metatype as (abstract new (...args: never[]) => unknown) | undefined;
    if (!instance || !metatype) continue;
    const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
    for (const name of scanner.getAllMethodNames(prototype)) {
      const targets = [prototype[name] as () => unknown, metatype];
      const open = reflector.getAllAndOverride<boolean | undefined>(PUBLIC_KEY, targets);
      const skipped = reflector.getAllAndOverride<boolean | undefined>(SKIP_THROTTLE_KEY, targets);
      if (!open && !skipped) ids.add(`${metatype.name}_${name}`);
    }
  }
  return ids;
}
