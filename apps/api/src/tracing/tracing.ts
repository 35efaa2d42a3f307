import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import type { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import { subscribeRedisCommands } from '@app/redis';

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => headers[key],
};

export interface TracingOptions {
  serviceName: string;
  version: string;
  /** OTLP/HTTP base URL (the exporter appends /v1/traces). */
  otlpEndpoint?: string;
  /** Tests hand in an in-memory exporter; spans are then exported synchronously. */
  exporter?: SpanExporter;
}

/**
 * OpenTelemetry for one application: an HTTP server span per request (continuing a W3C
 * `traceparent` when the caller sends one) and a client span per Redis command under it. Made only
 * when an exporter is configured; without one nothing is installed, so tracing costs nothing.
 *
 * The provider, context manager and propagator belong to this object instead of the global
 * OpenTelemetry API, so two applications in one process (tests) keep their traces apart.
 */
export class Tracing {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly contexts = new AsyncLocalStorageContextManager();
  private readonly propagator = new W3CTraceContextPropagator();
  private readonly unsubscribe: () => void;

  constructor(options: TracingOptions) {
    const exporter =
      options.exporter ?? new OTLPTraceExporter({ url: traceUrl(options.otlpEndpoint ?? '') });
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        'service.name': options.serviceName,
        'service.version': options.version,
      }),
      spanProcessors: [
        options.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter),
      ],
    });
    this.tracer = this.provider.getTracer('multi-agent-session-api', options.version);
    this.contexts.enable();
    this.unsubscribe = subscribeRedisCommands<Span | undefined>({
      start: (event) => {
        const parent = this.contexts.active();
        // Commands outside any request (sweepers, flushes) are not traced: no root spans of noise.
        if (trace.getSpan(parent) === undefined) return undefined;
        return this.tracer.startSpan(
          `redis ${event.command}`,
          {
            kind: SpanKind.CLIENT,
            attributes: {
              'db.system': 'redis',
              'db.operation.name': event.command,
              'server.address': event.serverAddress,
              'server.port': event.serverPort,
            },
          },
          parent,
        );
      },
      end: (_event, span, error) => {
        if (!span) return;
        if (error !== undefined) {
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: error instanceof Error ? error.name : 'error',
          });
        }
        span.end();
      },
    });
  }

  /** Starts the server span of a request, as a child of the caller's traceparent if any. */
  startRequest(method: string, headers: IncomingHttpHeaders): { span: Span; context: Context } {
    const parent = this.propagator.extract(ROOT_CONTEXT, headers, headerGetter);
    const span = this.tracer.startSpan(
      method,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } },
      parent,
    );
    return { span, context: trace.setSpan(parent, span) };
  }

  /**
   * Runs `fn` (and everything it schedules) inside the request's context; listeners later added to
   * `emitter` (the request body stream) run in it too.
   */
  within<T>(context: Context, fn: () => T, emitter?: EventEmitter): T {
    if (emitter) this.contexts.bind(context, emitter);
    return this.contexts.with(context, fn);
  }

  /** The `traceparent` header value of a span, for the response. */
  traceparent(span: Span): string {
    const { traceId, spanId, traceFlags } = span.spanContext();
    return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
  }

  async shutdown(): Promise<void> {
    this.unsubscribe();
    this.contexts.disable();
    await this.provider.shutdown();
  }
}

function traceUrl(endpoint: string): string {
  return endpoint.endsWith('/v1/traces') ? endpoint : `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

/** The trace id of a W3C traceparent header (`00-<32 hex>-<16 hex>-<2 hex>`), else undefined. */
export function traceIdOf(traceparent: string | string[] | undefined): string | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const match = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent.trim());
  return match && match[1] !== '00000000000000000000000000000000' ? match[1] : undefined;
}
