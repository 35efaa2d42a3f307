import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Response } from 'supertest';

/** The parts of an OpenAPI 3.0 document the contract walker reads. */
export interface Schema {
  [keyword: string]: unknown;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

export interface MediaType {
  schema?: Schema;
}

export interface ResponseSpec {
  description?: string;
  headers?: Record<string, Schema>;
  content?: Record<string, MediaType>;
}

export interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, MediaType> };
  responses: Record<string, ResponseSpec>;
  security?: unknown[];
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; headers?: Record<string, Schema> };
}

export interface DocumentedOperation {
  method: string;
  path: string;
  operation: Operation;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

export function operationsOf(document: OpenApiDocument): DocumentedOperation[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, operation]) => ({ method, path, operation })),
  );
}

const DOC_ID = 'contract';
const DROPPED = ['example', 'examples', 'nullable', 'xml', 'discriminator', 'externalDocs'];

/**
 * OpenAPI 3.0 schema -> JSON Schema for Ajv: `nullable` becomes a null alternative, component refs
 * point into the registered document. With `closed`, objects that list their properties and say
 * nothing about others refuse undocumented members, so a field the server adds without documenting
 * it fails the walk (problem+json stays open: RFC 9457 allows extension members).
 */
function toJsonSchema(schema: unknown, closed: boolean): unknown {
  if (Array.isArray(schema)) return schema.map((item) => toJsonSchema(item, closed));
  if (schema === null || typeof schema !== 'object') return schema;
  const source = schema as Schema;
  if (typeof source.$ref === 'string') {
    const converted = { $ref: `${DOC_ID}${source.$ref}` };
    return source.nullable === true ? { anyOf: [converted, { type: 'null' }] } : converted;
  }
  const out: Schema = {};
  for (const [key, value] of Object.entries(source)) {
    if (DROPPED.includes(key)) continue;
    if (key === 'properties' && value && typeof value === 'object') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([name, sub]) => [
          name,
          toJsonSchema(sub, closed),
        ]),
      );
    } else if (['items', 'additionalProperties', 'not'].includes(key)) {
      out[key] = typeof value === 'boolean' ? value : toJsonSchema(value, closed);
    } else if (['allOf', 'anyOf', 'oneOf'].includes(key)) {
      out[key] = toJsonSchema(value, closed);
    } else {
      out[key] = value;
    }
  }
  if (closed && out.properties && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  if (source.nullable === true) return { anyOf: [out, { type: 'null' }] };
  return out;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Validates response bodies and headers against the schemas of one OpenAPI document. */
export class ContractValidator {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly document: OpenApiDocument) {
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    const schemas = Object.fromEntries(
      Object.entries(document.components.schemas).map(([name, schema]) => [
        name,
        toJsonSchema(schema, name !== 'ProblemDetailsDto'),
      ]),
    );
    this.ajv.addSchema({ $id: DOC_ID, components: { schemas } });
  }

  private validatorFor(key: string, schema: Schema): ValidateFunction {
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(toJsonSchema(schema, true) as object);
      this.compiled.set(key, validate);
    }
    return validate;
  }

  private header(name: string, spec: Schema): Schema | undefined {
    if (typeof spec.$ref === 'string') {
      const ref = spec.$ref.replace('#/components/headers/', '');
      return this.document.components.headers?.[ref]?.schema as Schema | undefined;
    }
    return spec.schema as Schema | undefined;
  }

  /**
   * Every way `response` departs from what `operation` documents, in words naming the operation;
   * empty when the response is documented.
   */
  check(label: string, operation: Operation, response: Response): string[] {
    const status = String(response.status);
    const spec = operation.responses[status] ?? operation.responses.default;
    if (!spec) {
      return [
        `${label}: status ${status} is not documented (documented: ` +
          `${Object.keys(operation.responses).join(', ')}); body ${JSON.stringify(response.body).slice(0, 300)}`,
      ];
    }
    const problems: string[] = [];
    for (const [name, headerSpec] of Object.entries(spec.headers ?? {})) {
      const raw = response.headers[name.toLowerCase()] as string | undefined;
      if (raw === undefined) continue;
      const schema = this.header(name, headerSpec);
      if (!schema) continue;
      const value = schema.type === 'integer' || schema.type === 'number' ? Number(raw) : raw;
      const validate = this.validatorFor(`header ${name} ${JSON.stringify(schema)}`, schema);
      if (!validate(value)) {
        problems.push(
          `${label}: header ${name}: ${JSON.stringify(raw)} ${this.ajv.errorsText(validate.errors)}`,
        );
      }
    }
    const contentType = String(response.headers['content-type'] ?? '')
      .split(';')[0]
      .trim();
    const media = spec.content ? Object.keys(spec.content) : [];
    const hasBody = response.status !== 204 && (response.text ?? '').length > 0;
    if (!hasBody) return problems;
    if (media.length === 0) {
      problems.push(`${label}: ${status} has a ${contentType} body but documents no content`);
      return problems;
    }
    if (!media.includes(contentType)) {
      problems.push(`${label}: ${status} answered ${contentType}, documented ${media.join(', ')}`);
      return problems;
    }
    if (contentType === 'application/x-ndjson') {
      const lines = response.text.split('\n').filter((line) => line.length > 0);
      const broken = lines.findIndex((line) => !isJson(line));
      if (broken >= 0) problems.push(`${label}: NDJSON line ${broken + 1} is not JSON`);
      return problems;
    }
    const schema = spec.content?.[contentType]?.schema;
    const json = contentType === 'application/json' || contentType.endsWith('+json');
    if (!schema || !json) return problems;
    const validate = this.validatorFor(`${operation.operationId} ${status} ${contentType}`, schema);
    if (!validate(response.body)) {
      problems.push(
        `${label}: ${status} body does not match its schema: ` +
          `${this.ajv.errorsText(validate.errors, { separator: '; ' })}; body ${JSON.stringify(response.body).slice(0, 400)}`,
      );
    }
    return problems;
  }
}
