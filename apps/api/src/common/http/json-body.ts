import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidRequestError } from '../errors/domain-errors';
import { jsonDepth, MAX_JSON_DEPTH } from '../validation/json-object.validator';

export const JSON_CONTENT_TYPE = 'application/json';
export const MERGE_PATCH_CONTENT_TYPE = 'application/merge-patch+json';

/**
 * The body types this API reads, named in every 415. Nest's default body parsers are off
 * (`bodyParser: false`), so a form-encoded body (curl's `-d` default) is refused instead of being
 * read as a form whose one key is the whole JSON text.
 */
export const ACCEPTED_BODY_TYPES = [JSON_CONTENT_TYPE, MERGE_PATCH_CONTENT_TYPE] as const;

export const UNSUPPORTED_MEDIA_TYPE_DETAIL =
  `Send the body as ${JSON_CONTENT_TYPE} (header Content-Type: ${JSON_CONTENT_TYPE}); ` +
  `PATCH of agent memory takes ${MERGE_PATCH_CONTENT_TYPE}.`;

/**
 * Deepest body any route accepts: every JSON field is limited to MAX_JSON_DEPTH levels, and no
 * envelope around one (a batch, a backup record) is more than a few levels deep. Anything deeper
 * is refused before recursive code (class-transformer, class-validator, the audit sanitizer,
 * JSON.stringify) walks it: 10,000 levels of `[` exhaust their call stack (a 500).
 */
export const MAX_BODY_DEPTH = MAX_JSON_DEPTH * 2;

// Keys are only worth scanning when the text could spell one of them (escapes included).
const MAY_POISON = /__proto__|constructor|\\u/;

/**
 * JSON.parse, then refuses `__proto__` keys and `constructor.prototype` (prototype poisoning: a
 * later merge or spread of such an object could change every object's prototype). The caller
 * learns which key was refused and why, rather than "not valid JSON".
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) {
    throw InvalidRequestError.field(
      'body',
      'is empty but Content-Type says JSON; send a JSON document or leave Content-Type out',
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof SyntaxError ? `: ${error.message}` : '';
    throw InvalidRequestError.field('body', `is not valid JSON${reason}`);
  }
  if (jsonDepth(value, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) {
    throw InvalidRequestError.field(
      'body',
      `is nested deeper than ${MAX_BODY_DEPTH} levels; no field of this API accepts more than ` +
        `${MAX_JSON_DEPTH}`,
    );
  }
  if (MAY_POISON.test(text)) {
    const path = poisonedPath(value, 'body');
    if (path) {
      throw InvalidRequestError.field(
        path,
        'is refused: keys named __proto__ (and constructor.prototype) could alter object ' +
          'prototypes on the server (prototype pollution); rename the key',
      );
    }
  }
  return value;
}

/** The dotted path of the first poisoning key in `value`, if any. */
export function poisonedPath(value: unknown, path: string): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = poisonedPath(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const child: unknown = (value as Record<string, unknown>)[key];
    const childPath = `${path}.${key}`;
    if (key === '__proto__') return childPath;
    if (
      key === 'constructor' &&
      child !== null &&
      typeof child === 'object' &&
      Object.prototype.hasOwnProperty.call(child, 'prototype')
    ) {
      return `${childPath}.prototype`;
    }
    const found = poisonedPath(child, childPath);
    if (found) return found;
  }
  return undefined;
}

/** Registers {@link parseJsonBody} for a content type (once per Fastify instance). */
export function registerJsonParser(fastify: FastifyInstance, contentType: string): void {
  if (fastify.hasContentTypeParser(contentType)) fastify.removeContentTypeParser(contentType);
  fastify.addContentTypeParser(
    contentType,
    { parseAs: 'string' },
    (
      _request: FastifyRequest,
      body: string | Buffer,
      done: (e: Error | null, v?: unknown) => void,
    ) => {
      try {
        done(null, parseJsonBody(typeof body === 'string' ? body : body.toString('utf8')));
      } catch (error) {
        done(error as Error);
      }
    },
  );
}
