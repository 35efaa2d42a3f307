import fc from 'fast-check';
import { credentialArbitrary, type Credential } from './credentials';
import {
  deeplyNestedJson,
  hostileNumberText,
  hostileString,
  hostileValue,
  hugeString,
  invalidJsonText,
  pollutingKey,
} from './hostile-values';
import type { Operation, Parameter } from './openapi-operations';
import { validValue, type SchemaHints } from './schema-arbitrary';

/** One HTTP request, fully built: what the sender writes and what a failure report prints. */
export interface FuzzRequest {
  operation: string;
  /** Which mutation produced it (valid, param, header, body-*, ...). */
  mutation: string;
  credential: string;
  method: string;
  /** Path and query, already encoded as they go on the wire. */
  url: string;
  /** Two values: the header is sent twice. */
  headers: Record<string, string | string[]>;
  body?: string;
}

interface Parts {
  path: Record<string, string>;
  /** Repeated names are sent repeatedly (duplicated query parameters). */
  query: [string, string][];
  headers: Record<string, string | [string, string]>;
  body?: { contentType?: string; text: string };
}

const WRONG_CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/json;;;',
  'application/x-ndjson',
  'application/merge-patch+json',
  '*/*',
  '',
];

/**
 * Hostile strings for a URL: 64 KiB already passes every URL limit (16 KiB of headers, 431), and
 * building megabyte URLs would only cost the fuzzer's own CPU, which the app shares.
 */
const urlString = hostileString.filter((s) => s.length <= 70_000);

const OTHER_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Requests for one operation: schema-valid ones (so the code behind validation runs) and, more
 * often, one with a single hostile change, so that a failure points at what caused it.
 */
export function requestArbitrary(
  operation: Operation,
  hints: SchemaHints,
  credentials: { valid: Credential[]; broken: Credential[] },
): fc.Arbitrary<FuzzRequest> {
  const valid = validParts(operation, hints);
  const mutations: { name: string; arbitrary: fc.Arbitrary<Parts>; weight: number }[] = [
    { name: 'valid', arbitrary: valid, weight: 6 },
    { name: 'query', arbitrary: withHostileQuery(valid, operation), weight: 3 },
    { name: 'header', arbitrary: withHostileHeader(valid), weight: 2 },
  ];
  if (operation.parameters.some((p) => p.in === 'path')) {
    mutations.push({ name: 'path', arbitrary: withHostilePath(valid, operation), weight: 3 });
  }
  if (operation.body) {
    mutations.push(
      { name: 'body-field', arbitrary: withHostileField(valid), weight: 5 },
      { name: 'body-pollution', arbitrary: withPollutingKey(valid), weight: 2 },
      { name: 'body-raw', arbitrary: withRawBody(valid), weight: 3 },
      { name: 'content-type', arbitrary: withWrongContentType(valid), weight: 2 },
    );
  } else {
    mutations.push({ name: 'unexpected-body', arbitrary: withRawBody(valid), weight: 1 });
  }
  return fc
    .tuple(
      fc.oneof(
        ...mutations.map((m) => ({
          arbitrary: m.arbitrary.map((parts) => ({ parts, mutation: m.name })),
          weight: m.weight,
        })),
      ),
      credentialArbitrary(credentials),
      fc.oneof(
        { arbitrary: fc.constant(operation.method), weight: 20 },
        fc.constantFrom(...OTHER_METHODS),
      ),
    )
    .map(([{ parts, mutation }, credential, method]) =>
      build(operation, parts, mutation, credential, method),
    );
}

function validParts(operation: Operation, hints: SchemaHints): fc.Arbitrary<Parts> {
  const param = (p: Parameter) => validValue(p.schema, hints, p.name).map(paramText);
  const path = fc.record(
    Object.fromEntries(
      operation.parameters.filter((p) => p.in === 'path').map((p) => [p.name, param(p)]),
    ),
  ) as fc.Arbitrary<Record<string, string>>;
  const query = fc
    .tuple(
      ...operation.parameters
        .filter((p) => p.in === 'query')
        .map((p) =>
          fc.option(
            param(p).map((v): [string, string] => [p.name, v]),
            { freq: 2 },
          ),
        ),
    )
    .map((pairs) => pairs.filter((pair): pair is [string, string] => pair !== null));
  const headers = fc
    .tuple(
      ...operation.parameters
        .filter((p) => p.in === 'header')
        .map((p) =>
          fc.option(
            headerValue(p, hints).map((v): [string, string] => [p.name.toLowerCase(), v]),
            { freq: 2 },
          ),
        ),
    )
    .map((pairs) => Object.fromEntries(pairs.filter((pair) => pair !== null)));
  const body = operation.body ? bodyFor(operation, hints) : fc.constant(undefined);
  return fc.record({ path, query, headers, body });
}

function headerValue(p: Parameter, hints: SchemaHints): fc.Arbitrary<string> {
  if (p.name.toLowerCase() === 'if-match') {
    return fc.oneof(
      fc.integer({ min: 1, max: 5 }).map((v) => `"${v}"`),
      fc.constantFrom('*', 'W/"1"', '"1", "2"'),
    );
  }
  return validValue(p.schema, hints, p.name).map(paramText);
}

function bodyFor(
  operation: Operation,
  hints: SchemaHints,
): fc.Arbitrary<{ contentType: string; text: string }> {
  const { contentType, schema } = operation.body!;
  if (contentType === 'application/x-ndjson') {
    return fc
      .array(
        fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
        { maxLength: 5 },
      )
      .map((lines) => ({ contentType, text: lines.join('\n') }));
  }
  return validValue(schema, hints).map((value) => ({ contentType, text: JSON.stringify(value) }));
}

function paramText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function withHostilePath(valid: fc.Arbitrary<Parts>, operation: Operation): fc.Arbitrary<Parts> {
  const names = operation.parameters.filter((p) => p.in === 'path').map((p) => p.name);
  return fc
    .tuple(valid, fc.constantFrom(...names), urlString)
    .map(([parts, name, value]) => ({ ...parts, path: { ...parts.path, [name]: value } }));
}

function withHostileQuery(valid: fc.Arbitrary<Parts>, operation: Operation): fc.Arbitrary<Parts> {
  const names = [
    ...operation.parameters.filter((p) => p.in === 'query').map((p) => p.name),
    'unknown_param',
  ];
  return fc
    .tuple(
      valid,
      fc.constantFrom(...names),
      fc.oneof(urlString, hostileNumberText),
      fc.constantFrom('replace', 'duplicate', 'bracket', 'pollute', 'empty', 'bare'),
    )
    .map(([parts, name, value, how]) => {
      const query = parts.query.filter(([n]) => how === 'duplicate' || n !== name);
      if (how === 'bracket') query.push([`${name}[]`, value], [`${name}[x]`, value]);
      else if (how === 'pollute') query.push([`__proto__[${name}]`, value], ['constructor', value]);
      else if (how === 'empty') query.push([name, '']);
      else if (how === 'bare') query.push([name, '\0bare']);
      else
        query.push(
          [name, value],
          ...(how === 'duplicate' ? [[name, value] as [string, string]] : []),
        );
      return { ...parts, query };
    });
}

function withHostileHeader(valid: fc.Arbitrary<Parts>): fc.Arbitrary<Parts> {
  const value = fc.oneof(
    hostileString.filter((s) => s.length < 12_000),
    fc.constantFrom('"', 'W/', '"1"x'),
  );
  return fc
    .tuple(
      valid,
      fc.constantFrom(
        'idempotency-key',
        'if-match',
        'x-request-id',
        'accept',
        'accept-encoding',
        'content-encoding',
        'x-forwarded-for',
        'traceparent',
        'x-api-key',
        'authorization',
      ),
      fc.oneof(
        value,
        // The same header twice: Node joins most with ", ", keeps the first Authorization.
        fc.tuple(value, value),
        fc.constantFrom('gzip', 'br', 'identity, gzip', 'Bearer a b', '00-xyz-01'),
      ),
    )
    .map(([parts, name, v]) => ({ ...parts, headers: { ...parts.headers, [name]: v } }));
}

/** Replaces one field of the valid body (at any depth) with a value of another type or shape. */
function withHostileField(valid: fc.Arbitrary<Parts>): fc.Arbitrary<Parts> {
  return fc.tuple(valid, fc.nat(), hostileValue, fc.boolean()).map(([parts, pick, value, add]) => {
    const parsed = jsonBody(parts);
    if (parsed === undefined) return parts;
    const paths = fieldPaths(parsed);
    if (paths.length === 0 || add) {
      const target = isObject(parsed) ? parsed : {};
      target[`extra_${pick % 3}`] = value;
      return withBody(parts, target);
    }
    const path = paths[pick % paths.length];
    return withBody(parts, setAt(parsed, path, value));
  });
}

function withPollutingKey(valid: fc.Arbitrary<Parts>): fc.Arbitrary<Parts> {
  return fc.tuple(valid, pollutingKey, fc.nat(), hostileValue).map(([parts, key, pick, value]) => {
    const parsed = jsonBody(parts);
    if (parsed === undefined || !parts.body) return parts;
    const objects = objectPaths(parsed);
    const path = objects[pick % Math.max(objects.length, 1)] ?? [];
    const target = path.reduce<unknown>((at, k) => (at as Record<string, unknown>)[k], parsed);
    // Built as text: an object literal with a `__proto__` key would set the prototype instead.
    const inner = JSON.stringify(target);
    const poisoned = `{${JSON.stringify(key)}:${JSON.stringify(
      key === 'constructor' ? { prototype: { polluted: value ?? 1 } } : { polluted: value ?? 1 },
    )}${inner === '{}' ? '' : `,${inner.slice(1, -1)}`}}`;
    const text = path.length === 0 ? poisoned : replaceAt(parsed, path, poisoned);
    return { ...parts, body: { ...parts.body, text } };
  });
}

function withRawBody(valid: fc.Arbitrary<Parts>): fc.Arbitrary<Parts> {
  const raw = fc.oneof(
    deeplyNestedJson,
    invalidJsonText,
    hugeString.map((s) =>
      JSON.stringify({ session_config: { blob: s }, data: s, memory_data: { s } }),
    ),
    hostileNumberText.map((n) => `{"ttl_seconds":${n},"limit":${n},"data":${n}}`),
    fc.string({ unit: 'binary', maxLength: 200 }),
  );
  return fc.tuple(valid, raw).map(([parts, text]) => ({
    ...parts,
    body: { contentType: parts.body?.contentType ?? 'application/json', text },
  }));
}

function withWrongContentType(valid: fc.Arbitrary<Parts>): fc.Arbitrary<Parts> {
  return fc
    .tuple(valid, fc.constantFrom(...WRONG_CONTENT_TYPES, undefined))
    .map(([parts, contentType]) =>
      parts.body ? { ...parts, body: { ...parts.body, contentType } } : parts,
    );
}

/** The body as a value, when it is one JSON document (not NDJSON, not absent). */
function jsonBody(parts: Parts): unknown {
  if (parts.body?.contentType === 'application/x-ndjson') return undefined;
  try {
    return parts.body ? (JSON.parse(parts.body.text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

function withBody(parts: Parts, value: unknown): Parts {
  return { ...parts, body: { ...parts.body, text: JSON.stringify(value) ?? 'null' } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

type Path = (string | number)[];

function fieldPaths(value: unknown, at: Path = []): Path[] {
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => [[...at, i], ...fieldPaths(v, [...at, i])]);
  }
  if (isObject(value)) {
    return Object.entries(value).flatMap(([k, v]) => [[...at, k], ...fieldPaths(v, [...at, k])]);
  }
  return [];
}

function objectPaths(value: unknown, at: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => objectPaths(v, [...at, i]));
  if (!isObject(value)) return [];
  return [at, ...Object.entries(value).flatMap(([k, v]) => objectPaths(v, [...at, k]))];
}

function setAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const container = root as Record<string | number, unknown>;
  container[head] = setAt(container[head], rest, value);
  return root;
}

/** The JSON text of `root` with the value at `path` replaced by raw JSON text. */
function replaceAt(root: unknown, path: Path, rawJson: string): string {
  const marker = '\u0001FUZZ\u0001';
  return JSON.stringify(setAt(root, path, marker)).replace(JSON.stringify(marker), rawJson);
}

function encodePathValue(value: string): string {
  // Printable ASCII is sent as typed (`../`, `*`, `%zz` reach the router raw); the rest encoded.
  if (/^[\x21-\x7e]*$/.test(value) && !/[?#]/.test(value)) return value;
  return Buffer.from(value, 'utf8')
    .toString('hex')
    .replace(/../g, (byte) => `%${byte.toUpperCase()}`);
}

function encodeQueryPart(value: string): string {
  return Buffer.from(value, 'utf8')
    .toString('hex')
    .replace(/../g, (byte) => `%${byte.toUpperCase()}`);
}

/** Header values as bytes Node will put on the wire (UTF-8 bytes as latin1; no CR, LF, NUL). */
function wireHeader(value: string): string {
  return (
    Buffer.from(value, 'utf8')
      .toString('latin1')
      // eslint-disable-next-line no-control-regex -- the control characters are the point
      .replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '')
  );
}

function build(
  operation: Operation,
  parts: Parts,
  mutation: string,
  credential: Credential,
  method: string,
): FuzzRequest {
  const path = operation.path.replace(/\{([^}]+)\}/g, (_, name: string) =>
    encodePathValue(parts.path[name] ?? ''),
  );
  const query = parts.query
    .map(([k, v]) => `${encodeQueryPart(k)}=${encodeQueryPart(v)}`)
    .join('&');
  const headers: Record<string, string | string[]> = {};
  if (credential.header) headers[credential.header.name] = wireHeader(credential.header.value);
  // After the credential: a mutated Authorization or X-API-Key replaces or joins it.
  for (const [k, v] of Object.entries(parts.headers)) {
    headers[k] = typeof v === 'string' ? wireHeader(v) : v.map(wireHeader);
  }
  if (parts.body?.contentType !== undefined && parts.body.contentType !== '') {
    headers['content-type'] = parts.body.contentType;
  }
  return {
    operation: operation.id,
    mutation: method === operation.method ? mutation : `${mutation}+method`,
    credential: credential.label,
    method,
    url: query ? `${path}?${query}` : path,
    headers,
    body: parts.body?.text,
  };
}

/** Paths the document does not list: the router's 404 and 405 must be problems too. */
export function unknownRouteArbitrary(credentials: {
  valid: Credential[];
  broken: Credential[];
}): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(
      fc.constantFrom(...OTHER_METHODS),
      fc.oneof(
        fc.constantFrom(
          '/',
          '/api',
          '/api/v1',
          '/api/v2/sessions',
          '/api/v1/sessions/',
          '//api/v1/sessions',
          '/api/v1//sessions',
          '/api/v1/sessions/../../../etc/passwd',
          '/api/v1/sessions/%2e%2e/%2e%2e/admin/api-keys',
          '/api/v1/sessions;jsessionid=1',
          '/api/v1/SESSIONS',
          '/api/v1/sessions/x/y/z',
          '/api/v1/cache/a/b',
          '/admin/assets/../../package.json',
          '/admin/assets/%2e%2e%2fpackage.json',
          '/docs',
          '/docs-json',
          '/api/v1/health?x=1&x=2',
          '/api/v1/sessions?%',
          '/api/v1/sessions?a[b][c][d][e][f]=1',
          '/api/v1/sessions?' + 'a=1&'.repeat(2_000),
        ),
        hostileString.filter((s) => s.length < 2_000).map((s) => `/api/v1/${encodePathValue(s)}`),
      ),
      credentialArbitrary(credentials),
    )
    .map(([method, url, credential]) => ({
      operation: 'unknown-route',
      mutation: 'route',
      credential: credential.label,
      method,
      url,
      headers: credential.header
        ? { [credential.header.name]: wireHeader(credential.header.value) }
        : {},
    }));
}
