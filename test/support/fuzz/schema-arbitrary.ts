import fc from 'fast-check';
import type { Schema } from './openapi-operations';

/**
 * Values a schema accepts, from the keywords the exported document uses. Where the document is
 * vague (a bare string) the `example` is offered beside random text, so that requests also reach
 * the code behind validation; `hints` names live values (ids the test created) for formats and
 * property names, so that reads and writes meet real records.
 */
export interface SchemaHints {
  /** Live values by property/parameter name (session_id, agent_id, cache_key, ...). */
  byName: Record<string, readonly string[]>;
}

export function validValue(
  schema: Schema,
  hints: SchemaHints,
  name = '',
  depth = 0,
): fc.Arbitrary<unknown> {
  if (schema.allOf?.length) return validValue(mergeAll(schema.allOf), hints, name, depth);
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (alternatives?.length) {
    return fc.oneof(...alternatives.map((s) => validValue(s, hints, name, depth)));
  }
  if (schema.enum?.length) return fc.constantFrom(...schema.enum);
  const named = hints.byName[name];
  const base = valueOfType(schema, hints, name, depth);
  if (named?.length) return fc.oneof({ arbitrary: fc.constantFrom(...named), weight: 3 }, base);
  return base;
}

function valueOfType(
  schema: Schema,
  hints: SchemaHints,
  name: string,
  depth: number,
): fc.Arbitrary<unknown> {
  const type = schema.type ?? (schema.properties ? 'object' : undefined);
  switch (type) {
    case 'string':
      return stringFor(schema);
    case 'integer':
      return fc.integer({
        min: schema.minimum ?? 0,
        max: schema.maximum ?? Math.max(schema.minimum ?? 0, 0) + 10_000,
      });
    case 'number':
      return fc.integer({ min: schema.minimum ?? 0, max: schema.maximum ?? 10_000 });
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const min = schema.minItems ?? 0;
      const max = Math.min(schema.maxItems ?? min + 5, min + 5);
      return fc.array(validValue(schema.items ?? {}, hints, singular(name), depth + 1), {
        minLength: min,
        maxLength: max,
      });
    }
    case 'object':
      return objectFor(schema, hints, depth);
    default:
      return depth > 3 ? fc.constant(null) : fc.jsonValue({ maxDepth: 2 });
  }
}

function stringFor(schema: Schema): fc.Arbitrary<string> {
  const choices: fc.Arbitrary<string>[] = [];
  if (typeof schema.example === 'string') choices.push(fc.constant(schema.example));
  if (schema.format === 'uuid') choices.push(fc.uuid({ version: 4 }));
  else if (schema.format === 'date-time') {
    choices.push(
      fc
        .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString()),
    );
  } else if (schema.pattern) {
    choices.push(
      fc
        .stringMatching(new RegExp(schema.pattern))
        .filter((s) => s.length <= (schema.maxLength ?? Infinity)),
    );
  } else {
    choices.push(
      fc.string({
        minLength: schema.minLength ?? 1,
        maxLength: Math.min(schema.maxLength ?? 24, 64),
      }),
    );
  }
  return fc.oneof(...choices);
}

function objectFor(schema: Schema, hints: SchemaHints, depth: number): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, child] of Object.entries(properties)) {
    model[key] = validValue(child, hints, key, depth + 1);
  }
  const known = fc.record(model, {
    requiredKeys: Object.keys(properties).filter((k) => required.has(k)),
  });
  if (schema.additionalProperties === true || typeof schema.additionalProperties === 'object') {
    const extra = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 12 }),
      fc.jsonValue({ maxDepth: 2 }),
      { maxKeys: 4 },
    );
    return fc.tuple(known, extra).map(([k, e]) => ({ ...e, ...(k as object) }));
  }
  return known;
}

function mergeAll(schemas: Schema[]): Schema {
  return schemas.reduce<Schema>(
    (merged, s) => ({
      ...merged,
      ...s,
      properties: { ...merged.properties, ...s.properties },
      required: [...(merged.required ?? []), ...(s.required ?? [])],
    }),
    {},
  );
}

/** `session_ids` -> `session_id`, so list items find their hints. */
function singular(name: string): string {
  return name.endsWith('s') ? name.slice(0, -1) : name;
}
