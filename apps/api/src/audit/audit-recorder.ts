import { performance } from 'node:perf_hooks';
import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { auditScope, type AuditFrame } from '@app/redis';
import type { Principal } from '../auth/principal';
import { DEFAULT_TENANT } from '../common/http/tenant.decorator';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { auditedRoute, resourceIdOf, type AuditedRoute } from './audit-operations';
import { traceIdOf, type AuditRecordBody } from './audit-record';
import { sanitizePayload } from './audit-sanitizer';
import { AuditWriter } from './audit-writer';

/** The frame a request's write scripts read, plus the records they committed. */
export interface RequestAuditFrame extends AuditFrame {
  records: string[];
}

/** What the audit layer keeps on a request between its hooks and the interceptor. */
export interface AuditState {
  started: number;
  route?: AuditedRoute;
  requestData?: unknown;
  frame?: RequestAuditFrame;
}

export const AUDIT_STATE = Symbol('audit-state');

export type AuditedRequest = FastifyRequest & {
  [AUDIT_STATE]?: AuditState;
  principal?: Principal;
  tenant?: string;
};

/** Refusals of a read are recorded even when reads are not (somebody was kept out). */
const ALWAYS_RECORDED_REFUSALS = new Set([401, 403, 429]);
const MAX_USER_AGENT = 512;

/**
 * Builds audit records and appends the ones no write script appended. Fastify hooks, registered in
 * the constructor (before Nest declares the routes, like CacheRouteBodyLimit):
 * - onRequest notes the arrival time (duration_ms counts from there);
 * - onSend sees every answer, including refusals that never reach the interceptor (401, 403 and
 *   429 from guards, 413 and 415 from body parsing). When a write script already committed the
 *   record, nothing is appended; otherwise a refused or failed attempt, a write that changed
 *   nothing, or (with AUDIT_READS) a read is appended here, before the answer leaves.
 */
@Injectable()
export class AuditRecorder {
  constructor(
    adapterHost: HttpAdapterHost,
    private readonly writer: AuditWriter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    const fastify = adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify || typeof fastify.addHook !== 'function') return;
    fastify.addHook('onRequest', (request, _reply, done) => {
      (request as AuditedRequest)[AUDIT_STATE] = { started: performance.now() };
      done();
    });
    // The rest of the request (guards, pipes, handler, the repositories' scripts) runs inside the
    // request's audit frame: a hook rather than an interceptor, which Nest would wrap in an rxjs
    // chain and an async resource for every request.
    fastify.addHook('preHandler', (request, reply, done) => {
      const frame = this.open(request, reply);
      if (frame === undefined) return done();
      auditScope.run(frame, done);
    });
    fastify.addHook('onSend', async (request, reply, payload) => {
      await this.onSend(request, reply, payload);
      return payload;
    });
  }

  /**
   * Opens the audit frame of a request about to reach its handler, or undefined when its route is
   * not audited. The write scripts take the record from the frame (see auditScope) and append it in
   * the same atomic step as the change; the record is built when the script is called (after the
   * guards), so it knows who, what, from where, the request and trace ids, and the answer the
   * handler gives on success: the status Nest sets on the reply before it calls the handler (its
   * @HttpCode, else 201 for a POST and 200 otherwise).
   */
  open(request: AuditedRequest, reply: FastifyReply): RequestAuditFrame | undefined {
    const route = auditedRoute(request.method, request.routeOptions?.url);
    if (!route) return undefined;
    const state = this.stateOf(request);
    state.route = route;
    const frame: RequestAuditFrame = {
      committed: 0,
      records: [],
      record: () =>
        JSON.stringify(this.body(request, route, { status: reply.statusCode, error: null })),
      onCommit: (record) => frame.records.push(record),
      // Read when a script is called: the guards have named the caller by then.
      get actor() {
        return request.principal?.sub;
      },
    };
    state.frame = frame;
    return frame;
  }

  stateOf(request: AuditedRequest): AuditState {
    let state = request[AUDIT_STATE];
    if (!state) {
      state = { started: performance.now() };
      request[AUDIT_STATE] = state;
    }
    return state;
  }

  /**
   * The sanitized request payload: the body of a write, else the query of a read. A query holds
   * filters and ids, not payloads, so it is kept as values whatever AUDIT_PAYLOADS says.
   */
  requestData(request: AuditedRequest): unknown {
    const { body, query } = request;
    const options = {
      piiMasking: this.config.audit.piiMasking,
      maxBytes: this.config.audit.maxPayloadBytes,
    };
    if (body !== undefined && body !== null) {
      return sanitizePayload(body, { ...options, payloads: this.config.audit.payloads });
    }
    if (query && typeof query === 'object' && Object.keys(query).length > 0) {
      return sanitizePayload(query, options);
    }
    return sanitizePayload(null, options);
  }

  body(
    request: AuditedRequest,
    route: AuditedRoute,
    outcome: { status: number; error: string | null; responseData?: unknown },
  ): AuditRecordBody {
    const state = this.stateOf(request);
    const principal = request.principal;
    const userAgent = request.headers['user-agent'];
    const record: AuditRecordBody = {
      operation: route.operation,
      resource_type: route.resourceType,
      resource_id: resourceIdOf(identifyingParams(request)),
      user_id: principal?.sub ?? null,
      tenant: principal?.tenant ?? request.tenant ?? DEFAULT_TENANT,
      roles: principal?.roles ?? [],
      request_id: String(request.id),
      method: request.method,
      route: request.routeOptions?.url ?? request.url,
      ip_address: request.ip ?? null,
      user_agent: typeof userAgent === 'string' ? userAgent.slice(0, MAX_USER_AGENT) : null,
      // Sanitized once, when the first record of the request is built (reads rarely need it).
      request_data: (state.requestData ??= this.requestData(request)),
      success: outcome.status < 400,
      status_code: outcome.status,
      error: outcome.error,
      duration_ms: Math.round((performance.now() - state.started) * 1000) / 1000,
      trace_id: traceIdOf(request.headers.traceparent),
    };
    if (outcome.responseData !== undefined) record.response_data = outcome.responseData;
    return record;
  }

  private async onSend(request: AuditedRequest, reply: FastifyReply, payload: unknown) {
    const state = this.stateOf(request);
    const route = state.route ?? auditedRoute(request.method, request.routeOptions?.url);
    if (!route) return;
    if (state.frame && state.frame.committed > 0) {
      for (const record of state.frame.records) this.writer.committed(record);
      return;
    }
    const status = reply.statusCode;
    const failed = status >= 400;
    if (
      route.read &&
      !this.config.audit.reads &&
      !(failed && ALWAYS_RECORDED_REFUSALS.has(status))
    ) {
      return;
    }
    const json = typeof payload === 'string' ? parseJson(payload) : undefined;
    const problem =
      failed && json && typeof json === 'object' ? (json as Record<string, unknown>) : undefined;
    const error = failed ? problemText(problem, status) : null;
    const responseData =
      failed || json === undefined
        ? null
        : sanitizePayload(json, {
            piiMasking: this.config.audit.piiMasking,
            maxBytes: this.config.audit.maxPayloadBytes,
            payloads: this.config.audit.payloads,
          });
    const record = this.body(request, route, { status, error, responseData });
    await this.writer.append(record.tenant, JSON.stringify(record));
  }
}

/** Path parameters, plus the session_id a memory create carries in its body. */
function identifyingParams(request: AuditedRequest): Record<string, string> {
  const params = { ...((request.params ?? {}) as Record<string, string>) };
  const body = request.body as Record<string, unknown> | undefined;
  if (params.agent_id !== undefined && params.session_id === undefined) {
    if (body && typeof body === 'object' && typeof body.session_id === 'string') {
      params.session_id = body.session_id;
    }
  }
  return params;
}

function problemText(problem: Record<string, unknown> | undefined, status: number): string {
  for (const value of [problem?.detail, problem?.title]) {
    if (typeof value === 'string' && value !== '') return value;
  }
  return `HTTP ${status}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
