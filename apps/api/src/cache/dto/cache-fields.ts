import { registerDecorator, type ValidationOptions } from 'class-validator';
import { CACHE_KEY_PATTERN, CACHE_KEY_RULE } from '@app/redis';
import { jsonDepth, MAX_JSON_DEPTH } from '../../common/validation/json-object.validator';

/** Field rules shared by the cache DTOs. Keys and tags use the same alphabet. */
export { CACHE_KEY_PATTERN, CACHE_KEY_RULE };
export const MAX_TAGS_PER_ENTRY = 32;
export const MAX_BATCH_GET_KEYS = 100;
export const MAX_INVALIDATE_KEYS = 1000;
export const MAX_INVALIDATE_TAGS = 100;
/** invalidated_keys lists at most this many keys; invalidated_count is always exact. */
export const INVALIDATED_KEYS_REPORTED = 1000;

/**
 * Path words of the cache API that a `:cache_key` route would otherwise shadow or be shadowed by:
 * `POST /cache/invalidate` is the invalidation endpoint, so `invalidate` cannot be a cache key.
 */
export const RESERVED_CACHE_KEYS = ['invalidate', 'batch-get', 'stats'] as const;

export const EXAMPLE_CACHE_KEY = 'llm:gpt-4o:summary:3f1c2a9e';
export const EXAMPLE_DATA = { summary: 'The user asked for a trip plan to Lisbon.', tokens: 412 };
export const EXAMPLE_TAGS = ['session:3f1c2a9e', 'llm'];

/** Any JSON value (object, array, string, number, boolean or null), nested at most 32 levels. */
/**
 * OpenAPI for "any JSON value" (object, array, string, number, boolean or null): without it the
 * `unknown` property would be documented as an object.
 */
export const ANY_JSON_VALUE: { oneOf: Record<string, unknown>[]; nullable: true } = {
  oneOf: [
    { type: 'object', additionalProperties: true },
    { type: 'array', items: {} },
    { type: 'string' },
    { type: 'number' },
    { type: 'boolean' },
  ],
  nullable: true,
};

export function IsJsonValue(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isJsonValue',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) =>
          value !== undefined && jsonDepth(value, MAX_JSON_DEPTH) <= MAX_JSON_DEPTH,
        defaultMessage: (args) =>
          args?.value === undefined
            ? `${args?.property} is required (any JSON value, null included)`
            : `${args?.property} must not be nested deeper than ${MAX_JSON_DEPTH} levels`,
      },
    });
  };
}

/**
 * Turns a body field meant for `POST /cache/{cache_key}` that reached a reserved-word route into a
 * clear 400: `POST /cache/invalidate {"data": ...}` is an attempt to use `invalidate` as a key.
 */
export function RefusedAsCacheKey(word: (typeof RESERVED_CACHE_KEYS)[number]): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'refusedAsCacheKey',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown) => value === undefined,
        defaultMessage: () =>
          `"${word}" is a reserved word and cannot be used as a cache_key (POST /cache/${word} is ` +
          `another endpoint); reserved: ${RESERVED_CACHE_KEYS.join(', ')}`,
      },
    });
  };
}
