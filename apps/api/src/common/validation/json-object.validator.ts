import { registerDecorator, type ValidationOptions } from 'class-validator';

export const MAX_JSON_DEPTH = 32;

/** Nesting depth of a JSON value: a scalar is 0, `{}` is 1, `{"a":{}}` is 2. */
export function jsonDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  // Iterative on purpose: a hostile, deeply nested body must not exhaust the call stack.
  let deepest = 0;
  const stack: Array<{ node: unknown; depth: number }> = [{ node: value, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > limit) return deepest;
    for (const child of Object.values(node as Record<string, unknown>)) {
      stack.push({ node: child, depth: here });
    }
  }
  return deepest;
}

export function isPlainJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON object (not an array or null) nested at most `maxDepth` levels. */
export function IsJsonObject(
  maxDepth = MAX_JSON_DEPTH,
  options?: ValidationOptions,
): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isJsonObject',
      target: target.constructor,
      propertyName: String(propertyName),
      constraints: [maxDepth],
      options,
      validator: {
        validate: (value: unknown) =>
          isPlainJsonObject(value) && jsonDepth(value, maxDepth) <= maxDepth,
        defaultMessage: (args) =>
          isPlainJsonObject(args?.value)
            ? `${args?.property} must not be nested deeper than ${maxDepth} levels`
            : `${args?.property} must be a JSON object`,
      },
    });
  };
}
