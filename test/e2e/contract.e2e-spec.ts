import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createServer, get as httpGet, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request, { type Response } from 'supertest';
import { parse } from 'yaml';
import { API_PREFIX } from '../../apps/api/src/app.factory';
import { compileGrants, isAllowed } from '../../apps/api/src/auth/rbac-policy';
import { listRoutes } from '../../apps/api/src/auth/route-inventory';
import {
  ContractValidator,
  operationsOf,
  type DocumentedOperation,
  type OpenApiDocument,
  type Operation,
  type Parameter,
  type Schema,
} from '../support/openapi-contract';
import { eventually } from '../support/eventually';
import { RedisServer } from '../support/redis-server';
import { startTestApp, tokenFor, type TestApp, type TestClaims } from '../support/test-app';

/**
 * The contract walker: for every operation of the OpenAPI document the running app serves, it
 * provokes the responses it can (success, 400 per constrained input, 401, 403, 404, 409, 412, 413,
 * 415, 422, 429) and checks that each status is documented for that operation and that the body
 * and the documented headers match the documented schemas. Requests are derived from the document
 * (parameters, their constraints, request bodies); FIXTURES below adds what a document cannot say
 * (which resources must exist, a body that passes the service's own rules). A route added without
 * documentation, or an operation the walker cannot call, fails with its operationId named.
 */

/** One request to an operation. */
interface Call {
  path?: Record<string, string>;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  /** JSON (or merge-patch) body; a string is sent as it is. */
  body?: unknown;
  contentType?: string;
  /** The caller; the walker's admin when absent. */
  as?: TestClaims;
}

interface Fixture {
  /** A request that succeeds. */
  valid?: (r: Resources) => Promise<Call>;
  /** A request answered 404 (when the default, unknown path ids, does not apply). */
  notFound?: (r: Resources) => Promise<Call>;
  /** Requests whose last one is answered 409. */
  conflict?: (r: Resources) => Promise<Call[]>;
  /** Parameters whose invalid values are not a 400 of this operation (with the reason). */
  unchecked?: Record<string, string>;
}

const ADMIN: TestClaims = { sub: 'walker-admin', roles: ['admin'], tenant: 'default' };
const AGENT_ID = 'walker-agent';
const JSON_TYPE = 'application/json';

/** Creates the resources a request needs, through the API itself. */
class Resources {
  constructor(
    private readonly t: () => TestApp,
    readonly receiverUrl: () => string,
  ) {}

  private admin() {
    return this.t().as(ADMIN);
  }

  async session(): Promise<string> {
    const res = await this.admin()
      .post('/api/v1/sessions')
      .send({ session_config: { walker: true }, created_by: 'walker-user' })
      .expect(201);
    return (res.body as { session_id: string }).session_id;
  }

  async memory(agentId = AGENT_ID): Promise<{ agent_id: string; session_id: string }> {
    const sessionId = await this.session();
    await this.admin()
      .post(`/api/v1/agents/${agentId}/memory`)
      .send({ session_id: sessionId, memory_data: { step: 1 }, memory_type: 'working' })
      .expect(201);
    return { agent_id: agentId, session_id: sessionId };
  }

  async cacheKey(): Promise<string> {
    const key = `walker:${randomUUID()}`;
    await this.admin()
      .post(`/api/v1/cache/${key}`)
      .send({ data: { v: 1 }, tags: ['walker'] })
      .expect(201);
    return key;
  }

  async apiKey(body: Record<string, unknown> = { roles: ['agent'] }): Promise<string> {
    const res = await this.admin()
      .post('/api/v1/admin/api-keys')
      .send({ name: `walker-${randomUUID().slice(0, 8)}`, ...body })
      .expect(201);
    return (res.body as { id: string; api_key: string }).id;
  }

  /** A key with a scope that grants only health:read (its scopes decide: it has no roles). */
  async scopeOnlyKey(): Promise<string> {
    const res = await this.admin()
      .post('/api/v1/admin/api-keys')
      .send({ name: 'walker-scope-only', scopes: ['health:read'] })
      .expect(201);
    return (res.body as { api_key: string }).api_key;
  }

  /** A webhook pointed at `receiverUrl` (a local server that answers 500 to every delivery). */
  async webhook(receiverUrl: string): Promise<string> {
    const res = await this.admin()
      .post('/api/v1/webhooks')
      .send({ url: receiverUrl, event_types: ['session.created'] })
      .expect(201);
    return (res.body as { webhook_id: string }).webhook_id;
  }

  /** A delivery parked in a webhook's dead-letter list: its receiver refused the only attempt. */
  async parkedDelivery(receiverUrl: string): Promise<{ webhook_id: string; delivery_id: string }> {
    const webhookId = await this.webhook(receiverUrl);
    await this.session();
    let deliveryId = '';
    await eventually(async () => {
      const res = await this.admin().get(`/api/v1/webhooks/${webhookId}/deliveries`).expect(200);
      const parked = (res.body as { deliveries: { delivery_id: string }[] }).deliveries;
      expect(parked.length).toBeGreaterThan(0);
      deliveryId = parked[0].delivery_id;
    }, 15_000);
    return { webhook_id: webhookId, delivery_id: deliveryId };
  }

  async exportedSessionLine(): Promise<string> {
    await this.session();
    const res = await this.admin().get('/api/v1/admin/export').buffer(true).expect(200);
    const line = res.text.split('\n').find((l) => l.includes('"session"'));
    if (!line) throw new Error('the export holds no session line');
    return `${line}\n`;
  }
}

/** What the document cannot say about an operation. Keyed by operationId. */
const FIXTURES: Record<string, Fixture> = {
  SessionsController_create: {
    valid: () => Promise.resolve({ body: { session_config: { a: 1 }, created_by: 'walker-user' } }),
  },
  SessionsController_createMany: {
    valid: () =>
      Promise.resolve({ body: { sessions: [{ session_config: {}, created_by: 'walker-user' }] } }),
  },
  SessionsController_getMany: {
    valid: async (r) => ({ body: { session_ids: [await r.session()] } }),
  },
  SessionsController_deleteMany: {
    valid: async (r) => ({ body: { session_ids: [await r.session()] } }),
  },
  SessionsController_update: {
    valid: async (r) => ({
      path: { session_id: await r.session() },
      body: { updates: { status: 'running' } },
    }),
  },
  SessionsController_mergePatch: {
    valid: async (r) => ({ path: { session_id: await r.session() }, body: { status: 'running' } }),
  },
  SessionsController_updateStatus: {
    valid: async (r) => ({ path: { session_id: await r.session() }, body: { status: 'done' } }),
  },
  MemoryQueriesController_acrossAgents: {
    valid: async (r) => ({ query: { agent_ids: (await r.memory()).agent_id } }),
  },
  MemoryController_create: {
    valid: async (r) => ({
      path: { agent_id: AGENT_ID },
      body: { session_id: await r.session(), memory_data: { a: 1 }, memory_type: 'working' },
    }),
    notFound: () =>
      Promise.resolve({
        path: { agent_id: AGENT_ID },
        body: { session_id: randomUUID(), memory_data: {}, memory_type: 'working' },
      }),
    conflict: async (r) => {
      const { session_id } = await r.memory();
      const call = {
        path: { agent_id: AGENT_ID },
        body: { session_id, memory_data: { again: true }, memory_type: 'working' },
      };
      return [call];
    },
  },
  MemoryController_list: {
    valid: async (r) => ({ path: { agent_id: (await r.memory()).agent_id } }),
    // An agent token asking for another agent's memory: 404, so it learns nothing.
    notFound: () =>
      Promise.resolve({
        path: { agent_id: AGENT_ID },
        as: { sub: 'walker-other-agent', roles: ['agent'], tenant: 'default' },
      }),
  },
  MemoryController_replace: {
    valid: async (r) => ({ path: await r.memory(), body: { memory_data: { b: 2 } } }),
  },
  MemoryController_mergePatch: {
    valid: async (r) => ({ path: await r.memory(), body: { memory_data: { c: 3 } } }),
  },
  MaintenanceController_reencrypt: {
    valid: () => Promise.resolve({ body: { limit: 10 } }),
  },
  CacheController_invalidate: {
    valid: async (r) => ({ body: { cache_keys: [await r.cacheKey()] } }),
  },
  CacheController_getMany: {
    valid: async (r) => ({ body: { cache_keys: [await r.cacheKey()] } }),
  },
  CacheController_set: {
    valid: () =>
      Promise.resolve({ path: { cache_key: `walker:${randomUUID()}` }, body: { data: [1, 2] } }),
    conflict: async (r) => [
      {
        path: { cache_key: await r.cacheKey() },
        query: { only_if_absent: 'true' },
        body: { data: 'again' },
      },
    ],
  },
  CacheController_update: {
    valid: async (r) => ({ path: { cache_key: await r.cacheKey() }, body: { ttl_seconds: 60 } }),
  },
  BackupController_import: {
    valid: async (r) => ({
      query: { conflict: 'overwrite' },
      body: await r.exportedSessionLine(),
      contentType: 'application/x-ndjson',
    }),
  },
  ApiKeysController_create: {
    valid: () => Promise.resolve({ body: { name: 'walker-created', roles: ['agent'] } }),
  },
};

/** Syntactically valid values for path parameters, and ones that name nothing. */
async function pathValues(op: DocumentedOperation, r: Resources): Promise<Record<string, string>> {
  const names = (op.operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
  const values: Record<string, string> = {};
  if (names.includes('agent_id') && names.includes('session_id')) {
    Object.assign(values, await r.memory());
  } else if (names.includes('session_id')) {
    values.session_id = await r.session();
  } else if (names.includes('delivery_id')) {
    Object.assign(values, await r.parkedDelivery(r.receiverUrl()));
  }
  for (const name of names) {
    if (values[name] !== undefined) continue;
    if (name === 'agent_id') values.agent_id = (await r.memory()).agent_id;
    else if (name === 'cache_key') values.cache_key = await r.cacheKey();
    else if (name === 'key_id') values.key_id = await r.apiKey();
    else if (name === 'file') values.file = 'dashboard.js';
    else if (name === 'user_id') values.user_id = 'walker-subject';
    else if (name === 'webhook_id') values.webhook_id = await r.webhook(r.receiverUrl());
    else throw new Error(`${op.operation.operationId}: no value for path parameter ${name}`);
  }
  return values;
}

const UNKNOWN: Record<string, () => string> = {
  session_id: () => randomUUID(),
  agent_id: () => 'walker-unknown-agent',
  cache_key: () => `walker:missing:${randomUUID()}`,
  key_id: () => '0123456789abcdef',
  file: () => 'missing.js',
  user_id: () => 'walker-unknown-subject',
  webhook_id: () => randomUUID(),
  delivery_id: () => '1-0',
};

function placeholderPath(op: DocumentedOperation): Record<string, string> {
  return Object.fromEntries(
    (op.operation.parameters ?? [])
      .filter((p) => p.in === 'path')
      .map((p) => [p.name, p.name === 'file' ? 'dashboard.js' : (UNKNOWN[p.name]?.() ?? 'x')]),
  );
}

function resolve(document: OpenApiDocument, schema: Schema | undefined): Schema | undefined {
  if (schema && typeof schema.$ref === 'string') {
    return document.components.schemas[schema.$ref.split('/').pop() ?? ''];
  }
  return schema;
}

/** A body assembled from the documented examples of the required properties. */
function exampleBody(document: OpenApiDocument, op: Operation): unknown {
  const media = Object.values(op.requestBody?.content ?? {})[0];
  const schema = resolve(document, media?.schema);
  if (!schema) return undefined;
  if (schema.example !== undefined) return schema.example;
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = (schema.required ?? []) as string[];
  return Object.fromEntries(required.map((name) => [name, properties[name]?.example]));
}

/** A value the parameter's documented schema refuses, or undefined when it constrains nothing. */
function invalidValue(parameter: Parameter): string | undefined {
  const schema = parameter.schema ?? {};
  const items = (schema.items ?? {}) as Schema;
  if (schema.type === 'integer' || schema.type === 'number') {
    if (typeof schema.minimum === 'number') return String(schema.minimum - 1);
    if (typeof schema.maximum === 'number') return String(schema.maximum + 1);
    return 'not-a-number';
  }
  if (schema.type === 'boolean') return 'maybe';
  if (schema.enum || schema.pattern || schema.format || items.pattern || items.format) return '!!';
  if (typeof schema.maxLength === 'number') return 'x'.repeat(schema.maxLength + 1);
  return undefined;
}

function successStatus(operation: Operation): number {
  const statuses = Object.keys(operation.responses).filter((s) => s.startsWith('2'));
  if (statuses.length !== 1) {
    throw new Error(
      `${operation.operationId}: expected one documented 2xx, got ${statuses.join(', ')}`,
    );
  }
  return Number(statuses[0]);
}

const documents = (op: Operation, status: number) => String(status) in op.responses;

const streams = (op: Operation) =>
  Object.values(op.responses).some(
    (response) => 'text/event-stream' in ((response as { content?: object }).content ?? {}),
  );

describe('Contract: every operation answers as docs/api/openapi.yaml says', () => {
  let redis: RedisServer;
  let t: TestApp;
  let document: OpenApiDocument;
  let validator: ContractValidator;
  let operations: DocumentedOperation[];
  let scopeOnlyKey: string;
  const configDir = mkdtempSync(join(tmpdir(), 'contract-'));
  // Refuses every delivery, so a webhook's first event is parked at once (WEBHOOK_MAX_ATTEMPTS=1).
  let receiver: Server;
  let receiverUrl = '';
  const resources = new Resources(
    () => t,
    () => receiverUrl,
  );
  const coverage = new Map<string, Set<number>>();
  let lastResponse: Response | undefined;

  const limitsFile = (perClass: number, failedAuth: number) => {
    const file = join(configDir, `rate-limits-${perClass}.yaml`);
    const classes = ['reads', 'writes', 'bulk', 'invalidation', 'audit_export']
      .map((name) => `  ${name}: ${perClass}`)
      .join('\n');
    writeFileSync(
      file,
      `window_seconds: 60\nclasses:\n${classes}\nfailed_auth_per_ip: ${failedAuth}\n`,
    );
    return file;
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    receiver = createServer((req, res) => {
      req.resume();
      res.statusCode = 500;
      res.end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    // Generous limits: the walker sends a few hundred requests; the 429 case has its own app.
    t = await startTestApp(redis.url, {
      RATE_LIMITS_CONFIG_PATH: limitsFile(100_000, 100_000),
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_MAX_ATTEMPTS: '1',
      WEBHOOK_POLL_INTERVAL_MS: '100',
    });
    document = (await t.anonymous.get('/docs-json').expect(200)).body as OpenApiDocument;
    validator = new ContractValidator(document);
    operations = operationsOf(document);
    scopeOnlyKey = await resources.scopeOnlyKey();
  });

  afterAll(async () => {
    await t?.close();
    await redis?.dispose();
    await new Promise((resolve) => receiver?.close(resolve));
    rmSync(configDir, { recursive: true, force: true });
    const lines = [...coverage]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, statuses]) => `  ${id}: ${[...statuses].sort().join(' ')}`);
    const checks = [...coverage.values()].reduce((sum, s) => sum + s.size, 0);
    process.stdout.write(
      `contract walker: ${coverage.size} operations, ${checks} (operation, status) pairs checked\n` +
        `${lines.join('\n')}\n`,
    );
  });

  /** Sends `call` to `op` and returns what the contract says is wrong with the answer. */
  async function probe(
    op: DocumentedOperation,
    call: Call,
    caller: 'admin' | 'anonymous' | { token: string } | { apiKey: string },
    expected: number,
    app: TestApp = t,
  ): Promise<string[]> {
    const label = `${op.operation.operationId} (${op.method.toUpperCase()} ${op.path})`;
    let url = op.path;
    for (const [name, value] of Object.entries(call.path ?? {})) {
      url = url.replace(`{${name}}`, encodeURIComponent(value));
    }
    if (expected < 300 && streams(op.operation)) return probeStream(app, label, op, url, call);
    const agent = request(app.app.getHttpServer());
    let req = agent[op.method as 'get'](url);
    if (call.query) req = req.query(call.query);
    if (call.as) req = req.set('Authorization', `Bearer ${tokenFor(call.as)}`);
    else if (caller === 'admin') req = req.set('Authorization', `Bearer ${tokenFor(ADMIN)}`);
    else if (caller !== 'anonymous' && 'token' in caller)
      req = req.set('Authorization', `Bearer ${caller.token}`);
    else if (caller !== 'anonymous') req = req.set('X-API-Key', caller.apiKey);
    for (const [name, value] of Object.entries(call.headers ?? {})) req = req.set(name, value);
    if (call.body !== undefined) {
      const type =
        call.contentType ?? Object.keys(op.operation.requestBody?.content ?? {})[0] ?? JSON_TYPE;
      req = req
        .set('Content-Type', type)
        .send(typeof call.body === 'string' ? call.body : JSON.stringify(call.body));
    }
    const response: Response = await req.buffer(true);
    lastResponse = response;
    const problems = validator.check(label, op.operation, response);
    if (response.status !== expected) {
      problems.push(
        `${label}: expected ${expected}, got ${response.status} ${response.text.slice(0, 300)}`,
      );
    }
    if (problems.length === 0) {
      const seen = coverage.get(op.operation.operationId) ?? new Set<number>();
      seen.add(response.status);
      coverage.set(op.operation.operationId, seen);
    }
    return problems;
  }

  /**
   * An event stream never ends: its answer is its head (status, content type, the documented
   * headers), read over a real socket that then hangs up.
   */
  async function probeStream(
    app: TestApp,
    label: string,
    op: DocumentedOperation,
    url: string,
    call: Call,
  ): Promise<string[]> {
    await app.app.listen(0, '127.0.0.1').catch(() => undefined);
    const { port } = app.app.getHttpServer().address() as AddressInfo;
    const query = new URLSearchParams(call.query as Record<string, string> | undefined).toString();
    const head = await new Promise<{ status: number; headers: IncomingHttpHeaders }>(
      (resolve, reject) => {
        const req = httpGet(
          {
            host: '127.0.0.1',
            port,
            path: query ? `${url}?${query}` : url,
            headers: { authorization: `Bearer ${tokenFor(call.as ?? ADMIN)}`, ...call.headers },
          },
          (res) => {
            resolve({ status: res.statusCode ?? 0, headers: res.headers });
            res.destroy();
          },
        );
        req.on('error', reject);
        req.setTimeout(10_000, () => req.destroy(new Error(`${label}: no response head in 10 s`)));
      },
    );
    const problems: string[] = [];
    const documented = op.operation.responses[String(head.status)] as
      { content?: Record<string, unknown>; headers?: Record<string, unknown> } | undefined;
    if (!documented) problems.push(`${label}: status ${head.status} is not documented`);
    const type = head.headers['content-type'];
    if (!type?.startsWith('text/event-stream'))
      problems.push(`${label}: content type ${String(type)}`);
    // Like ContractValidator: a documented header may be absent (CORS without an Origin), but
    // every answer carries its request id.
    if (documented?.headers?.['X-Request-Id'] && head.headers['x-request-id'] === undefined) {
      problems.push(`${label}: documented header X-Request-Id missing`);
    }
    if (problems.length === 0) {
      const seen = coverage.get(op.operation.operationId) ?? new Set<number>();
      seen.add(head.status);
      coverage.set(op.operation.operationId, seen);
    }
    return problems;
  }

  async function validCall(op: DocumentedOperation): Promise<Call> {
    const fixture = FIXTURES[op.operation.operationId];
    if (fixture?.valid) return fixture.valid(resources);
    const call: Call = { path: await pathValues(op, resources) };
    if (op.operation.requestBody) call.body = exampleBody(document, op.operation);
    return call;
  }

  /** Runs `each` over the operations, collecting every problem so one run names them all. */
  async function walk(
    select: (op: DocumentedOperation) => boolean,
    each: (op: DocumentedOperation) => Promise<string[]>,
  ): Promise<string[]> {
    const problems: string[] = [];
    for (const op of operations.filter(select)) {
      try {
        problems.push(...(await each(op)));
      } catch (error) {
        problems.push(`${op.operation.operationId}: ${String(error)}`);
      }
    }
    return problems;
  }

  const secured = (op: DocumentedOperation) => (op.operation.security ?? []).length > 0;
  const takesBody = (op: DocumentedOperation) => op.operation.requestBody !== undefined;

  it('documents every route the app serves, and the committed docs/api/openapi.yaml is this document', () => {
    const documented = new Set(operations.map((op) => `${op.method.toUpperCase()} ${op.path}`));
    const undocumented = listRoutes(t.app, API_PREFIX)
      .map((route) => `${route.method} ${route.path.replace(/:([A-Za-z_]+)/g, '{$1}')}`)
      .filter((route) => !documented.has(route));
    expect(undocumented).toEqual([]);
    const committed = parse(
      readFileSync(join(__dirname, '..', '..', 'docs', 'api', 'openapi.yaml'), 'utf8'),
    ) as OpenApiDocument;
    expect(committed.paths).toEqual(document.paths);
    expect(committed.components).toEqual(document.components);
  });

  it('answers a valid request to every operation with its documented 2xx and schema', async () => {
    const problems = await walk(
      () => true,
      async (op) => probe(op, await validCall(op), 'admin', successStatus(op.operation)),
    );
    expect(problems).toEqual([]);
  });

  it('answers each constrained parameter given a value its schema refuses with a documented 400', async () => {
    const problems = await walk(
      (op) => documents(op.operation, 400),
      async (op) => {
        const found: string[] = [];
        const unchecked = FIXTURES[op.operation.operationId]?.unchecked ?? {};
        for (const parameter of op.operation.parameters ?? []) {
          const bad = invalidValue(parameter);
          if (bad === undefined || parameter.name in unchecked) continue;
          const call = await validCall(op);
          if (parameter.in === 'path') call.path = { ...call.path, [parameter.name]: bad };
          else if (parameter.in === 'query') call.query = { ...call.query, [parameter.name]: bad };
          else if (parameter.in === 'header')
            call.headers = { ...call.headers, [parameter.name]: bad };
          found.push(...(await probe(op, call, 'admin', 400)));
        }
        const json = Object.keys(op.operation.requestBody?.content ?? {}).some(
          (type) => type === JSON_TYPE || type.endsWith('+json'),
        );
        if (json) {
          const call = await validCall(op);
          // Request DTOs are closed: an undocumented member is refused, not ignored.
          call.body = { ...(call.body as object), walker_undocumented_member: 1 };
          found.push(...(await probe(op, call, 'admin', 400)));
          found.push(...(await probe(op, { ...call, body: '{"unterminated": ' }, 'admin', 400)));
        }
        return found;
      },
    );
    expect(problems).toEqual([]);
  });

  it('answers a protected operation without credentials with a documented 401', async () => {
    const problems = await walk(secured, async (op) => {
      const call: Call = { path: placeholderPath(op) };
      if (takesBody(op)) call.body = '{}\n';
      return probe(op, call, 'anonymous', 401);
    });
    expect(problems).toEqual([]);
  });

  it('answers a caller whose roles or scopes lack the permission with a documented 403', async () => {
    const grants = compileGrants(t.config.auth.rolePermissions);
    const routes = listRoutes(t.app, API_PREFIX);
    const problems = await walk(secured, async (op) => {
      const route = routes.find(
        (r) =>
          r.method === op.method.toUpperCase() &&
          r.path.replace(/:([A-Za-z_]+)/g, '{$1}') === op.path,
      );
      const required = route?.permissions ?? [];
      const role = (['agent', 'analyst', 'orchestrator'] as const).find(
        (candidate) => !isAllowed(grants, [candidate], required),
      );
      const call: Call = { path: placeholderPath(op) };
      if (takesBody(op)) call.body = '{}\n';
      const caller = role
        ? { token: tokenFor({ sub: 'walker-limited', roles: [role], tenant: 'default' }) }
        : { apiKey: scopeOnlyKey };
      return probe(op, call, caller, 403);
    });
    expect(problems).toEqual([]);
  });

  it('answers ids that name nothing with a documented 404', async () => {
    const problems = await walk(
      (op) => documents(op.operation, 404),
      async (op) => {
        const fixture = FIXTURES[op.operation.operationId];
        if (fixture?.notFound) return probe(op, await fixture.notFound(resources), 'admin', 404);
        const call = await validCall(op);
        const names = Object.keys(call.path ?? {});
        // With an agent and a session, the session is the one that does not exist.
        const missing = names.includes('session_id') ? ['session_id'] : names;
        for (const name of missing) call.path = { ...call.path, [name]: UNKNOWN[name]() };
        return probe(op, call, 'admin', 404);
      },
    );
    expect(problems).toEqual([]);
  });

  it('answers a stale If-Match with a documented 412, and a conflict with a documented 409', async () => {
    const stale = await walk(
      (op) => (op.operation.parameters ?? []).some((p) => p.name === 'If-Match'),
      async (op) => {
        const call = await validCall(op);
        call.headers = { ...call.headers, 'If-Match': '"999"' };
        return probe(op, call, 'admin', 412);
      },
    );
    const conflicts = await walk(
      (op) => FIXTURES[op.operation.operationId]?.conflict !== undefined,
      async (op) => {
        const calls = await FIXTURES[op.operation.operationId].conflict!(resources);
        const found: string[] = [];
        for (const call of calls) found.push(...(await probe(op, call, 'admin', 409)));
        return found;
      },
    );
    expect([...stale, ...conflicts]).toEqual([]);
  });

  it('answers an Idempotency-Key reused with another body with a documented 422', async () => {
    const problems = await walk(
      (op) => (op.operation.parameters ?? []).some((p) => p.name === 'Idempotency-Key'),
      async (op) => {
        const key = `walker-${randomUUID()}`;
        const first = await validCall(op);
        first.headers = { 'Idempotency-Key': key };
        const found = await probe(op, first, 'admin', successStatus(op.operation));
        const second = await validCall(op);
        second.headers = { 'Idempotency-Key': key };
        // Another body under the same key: the key is checked before the body is validated.
        second.body = { ...(second.body as object), walker_variant: randomUUID() };
        found.push(...(await probe(op, second, 'admin', 422)));
        return found;
      },
    );
    expect(problems).toEqual([]);
  });

  it('answers a body over the limit with a documented 413 and another media type with 415', async () => {
    const oversized = JSON.stringify({ data: 'x'.repeat(3 * 1024 * 1024) });
    const problems = await walk(takesBody, async (op) => {
      const call = await validCall(op);
      const found: string[] = [];
      if (documents(op.operation, 415)) {
        const plain = { ...call, body: 'plain words', contentType: 'text/plain' };
        found.push(...(await probe(op, plain, 'admin', 415)));
      }
      if (documents(op.operation, 413)) {
        found.push(...(await probe(op, { ...call, body: oversized }, 'admin', 413)));
      }
      return found;
    });
    expect(problems).toEqual([]);
  });

  it('answers past the rate limit with a documented 429 carrying Retry-After', async () => {
    // Same Redis and key prefix: the counters the walk above filled are over a limit of 1.
    const limited = await startTestApp(redis.url, { RATE_LIMITS_CONFIG_PATH: limitsFile(1, 1) });
    try {
      const problems = await walk(
        (op) => documents(op.operation, 429),
        async (op) => {
          const call: Call = { path: placeholderPath(op) };
          if (takesBody(op)) call.body = '{}\n';
          let found = await probe(op, call, 'admin', 429, limited);
          // Routes the limiter skips (@SkipThrottle) still brake failed authentications.
          if (found.length > 0)
            found = await probe(op, call, { token: 'not-a-token' }, 429, limited);
          if (found.length === 0 && lastResponse?.headers['retry-after'] === undefined) {
            found.push(`${op.operation.operationId}: 429 without Retry-After`);
          }
          return found;
        },
      );
      expect(problems).toEqual([]);
    } finally {
      await limited.close();
    }
  });
});
