import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { responsesSettled } from '../support/eventually';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';

describe('OpenTelemetry tracing', () => {
  let redis: RedisServer;
  let t: TestApp;
  const exporter = new InMemorySpanExporter();

  beforeAll(async () => {
    redis = await RedisServer.start();
    t = await startTestApp(redis.url, {}, { spanExporter: exporter });
  });

  afterAll(async () => {
    await t.close();
    await redis.dispose();
  });

  const parentId = (span: ReadableSpan) => span.parentSpanContext?.spanId;

  it('continues the caller’s traceparent with a server span and a client span per Redis command', async () => {
    const created = await t.http
      .post('/api/v1/sessions')
      .send({ session_config: {}, created_by: 'u' })
      .expect(201);
    const id = (created.body as { session_id: string }).session_id;
    exporter.reset();

    const response = await t.http
      .get(`/api/v1/sessions/${id}`)
      .set('traceparent', `00-${TRACE_ID}-${CALLER_SPAN_ID}-01`)
      .expect(200);
    await responsesSettled(); // the server span ends in onResponse

    const spans = exporter.getFinishedSpans();
    const server = spans.filter((span) => span.kind === SpanKind.SERVER);
    expect(server).toHaveLength(1);
    const [request] = server;
    expect(request.name).toBe('GET /api/v1/sessions/:session_id');
    expect(request.spanContext().traceId).toBe(TRACE_ID);
    expect(parentId(request)).toBe(CALLER_SPAN_ID);
    expect(request.attributes['http.route']).toBe('/api/v1/sessions/:session_id');
    expect(request.attributes['http.response.status_code']).toBe(200);

    const commands = spans.filter((span) => span.kind === SpanKind.CLIENT);
    // The rate-limit check (EVALSHA) and the session read.
    expect(commands.map((span) => span.name)).toEqual(
      expect.arrayContaining(['redis evalsha', 'redis hgetall']),
    );
    for (const command of commands) {
      expect(command.spanContext().traceId).toBe(TRACE_ID);
      expect(parentId(command)).toBe(request.spanContext().spanId);
      expect(command.attributes['db.system']).toBe('redis');
    }
    expect(spans).toHaveLength(1 + commands.length);

    // The response names the server span, so the caller can find this request's trace.
    expect(response.headers.traceparent).toBe(`00-${TRACE_ID}-${request.spanContext().spanId}-01`);
  });

  it('starts a new trace when the caller sends none, and traces a request with a body', async () => {
    exporter.reset();
    const response = await t.http
      .post('/api/v1/sessions')
      .send({ session_config: {}, created_by: 'u' })
      .expect(201);
    await responsesSettled();
    const spans = exporter.getFinishedSpans();
    const [request] = spans.filter((span) => span.kind === SpanKind.SERVER);
    expect(parentId(request)).toBeUndefined();
    expect(request.name).toBe('POST /api/v1/sessions');
    expect(response.headers.traceparent).toMatch(
      new RegExp(`^00-${request.spanContext().traceId}-${request.spanContext().spanId}-01$`),
    );
    const commands = spans.filter((span) => span.kind === SpanKind.CLIENT);
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      expect(parentId(command)).toBe(request.spanContext().spanId);
    }
  });
});
