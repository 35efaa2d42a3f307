import { validateSync } from 'class-validator';
import {
  IsJsonObject,
  MAX_JSON_DEPTH,
  isPlainJsonObject,
  jsonDepth,
} from './json-object.validator';

/** `{"a":{"a":...{}}}` with `depth` objects, built in a loop (no recursion in the test either). */
function nestedObject(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let level = 1; level < depth; level += 1) value = { a: value };
  return value;
}

class Payload {
  @IsJsonObject()
  data: unknown;

  constructor(data: unknown) {
    this.data = data;
  }
}

class ShallowPayload {
  @IsJsonObject(2)
  data: unknown;

  constructor(data: unknown) {
    this.data = data;
  }
}

function messagesFor(target: object): string[] {
  return validateSync(target).flatMap((error) => Object.values(error.constraints ?? {}));
}

describe('jsonDepth', () => {
  it.each([0, 1.5, 'text', '', true, false, null, undefined])(
    'gives depth 0 to the scalar %j',
    (value) => {
      expect(jsonDepth(value)).toBe(0);
    },
  );

  it('gives depth 1 to {} and []', () => {
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth([])).toBe(1);
    expect(jsonDepth({ a: 1, b: 'x', c: null })).toBe(1);
  });

  it('counts nested objects', () => {
    expect(jsonDepth({ a: {} })).toBe(2);
    expect(jsonDepth({ a: { b: { c: 1 } } })).toBe(3);
    expect(jsonDepth(nestedObject(10))).toBe(10);
  });

  it('counts arrays as levels too', () => {
    expect(jsonDepth([[]])).toBe(2);
    expect(jsonDepth({ list: [{ x: [1, 2] }] })).toBe(4);
  });

  it('reports the deepest branch, not the first or the last', () => {
    expect(jsonDepth({ shallow: 1, deep: { a: { b: {} } }, medium: { a: {} } })).toBe(4);
    expect(jsonDepth([{ a: { b: {} } }, 1, {}])).toBe(4);
  });

  it('stops early once the limit is exceeded, returning a value above the limit', () => {
    const deep = nestedObject(1000);
    const result = jsonDepth(deep, 5);
    expect(result).toBeGreaterThan(5);
    expect(result).toBe(6);
    expect(jsonDepth(deep)).toBe(1000);
  });

  it('returns the exact depth when it stays within the limit', () => {
    expect(jsonDepth(nestedObject(5), 5)).toBe(5);
    expect(jsonDepth(nestedObject(3), 5)).toBe(3);
  });

  it('measures a 100000-deep object without recursion (no stack overflow)', () => {
    const deep = nestedObject(100_000);
    expect(() => jsonDepth(deep)).not.toThrow();
    expect(jsonDepth(deep)).toBe(100_000);
    expect(jsonDepth(deep, MAX_JSON_DEPTH)).toBe(MAX_JSON_DEPTH + 1);
  });
});

describe('isPlainJsonObject', () => {
  it('accepts objects', () => {
    expect(isPlainJsonObject({})).toBe(true);
    expect(isPlainJsonObject({ a: [1] })).toBe(true);
  });

  it.each([null, undefined, [], [1, 2], 'x', 0, true])('rejects %j', (value) => {
    expect(isPlainJsonObject(value)).toBe(false);
  });
});

describe('IsJsonObject (class-validator)', () => {
  it('has a default limit of 32 levels', () => {
    expect(MAX_JSON_DEPTH).toBe(32);
  });

  it('accepts a JSON object', () => {
    expect(validateSync(new Payload({ goal: 'x', steps: [{ n: 1 }] }))).toEqual([]);
    expect(validateSync(new Payload({}))).toEqual([]);
  });

  it('accepts an object exactly 32 levels deep', () => {
    expect(validateSync(new Payload(nestedObject(32)))).toEqual([]);
  });

  it('rejects an array as not a JSON object', () => {
    const errors = validateSync(new Payload([1, 2]));
    expect(errors).toHaveLength(1);
    expect(errors[0].property).toBe('data');
    expect(errors[0].constraints).toEqual({ isJsonObject: 'data must be a JSON object' });
  });

  it.each([null, 'text', 5, undefined])('rejects %j as not a JSON object', (value) => {
    expect(messagesFor(new Payload(value))).toEqual(['data must be a JSON object']);
  });

  it('rejects an object 33 levels deep with a message naming the 32-level limit', () => {
    const messages = messagesFor(new Payload(nestedObject(33)));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('32');
    expect(messages[0]).toBe('data must not be nested deeper than 32 levels');
  });

  it('rejects a 100000-deep object without overflowing the stack', () => {
    expect(messagesFor(new Payload(nestedObject(100_000)))).toEqual([
      'data must not be nested deeper than 32 levels',
    ]);
  });

  it('honours a custom depth limit', () => {
    expect(validateSync(new ShallowPayload({ a: {} }))).toEqual([]);
    expect(messagesFor(new ShallowPayload({ a: { b: {} } }))).toEqual([
      'data must not be nested deeper than 2 levels',
    ]);
  });
});
