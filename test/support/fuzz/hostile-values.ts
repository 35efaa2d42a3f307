import fc from 'fast-check';

/**
 * Values a careless or hostile client sends: each names a class of bug (a parser that trusts
 * sizes, a key builder that trusts characters, a merge that trusts keys, a number that is not
 * finite). Big values are built by repetition rather than generated character by character, so a
 * 1 MiB body costs microseconds.
 */
const INJECTION = [
  '*',
  '?',
  '[',
  '[a-z]*',
  '\\',
  "' OR '1'='1",
  '1; DROP TABLE sessions; --',
  '"; redis.call("FLUSHALL"); --',
  'return redis.call("KEYS","*")',
  '{tenant}',
  '*a*a*a*a*a*a*a*a*a*a*b',
  '?'.repeat(250),
  '*'.repeat(250),
  'llm:*:*:*:*',
  '2026-13-45T99:99:99Z',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00Z',
  '0000-00-00T00:00:00Z',
  '2026-02-30',
  '1970-01-01T00:00:00Z',
  '{default}:session:*',
  '../../../etc/passwd',
  '..%2f..%2f',
  '%00',
  '%',
  '%zz',
  '%ED%A0%80',
  '%FF%FE',
  '%C0%AF',
  '\r\nSet-Cookie: x=1',
  '\r\n\r\nGET / HTTP/1.1',
  '$(reboot)',
  '`id`',
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'null',
  'undefined',
  'NaN',
  'true',
  '-0',
  '1e309',
  '0x1F',
  ' ',
  '',
];

const UNICODE = [
  '\ud800', // lone high surrogate
  '\udc00', // lone low surrogate
  '\u202eevil\u202c', // RTL override
  '\u0000',
  'a\u0000b',
  '\ufeff',
  '\u200b',
  '😀👩‍👩‍👧‍👦',
  'ｆｕｌｌｗｉｄｔｈ',
  'İı',
  'e\u0301',
  '\u0085\u2028\u2029',
  'ÿ'.repeat(300),
];

const HUGE_SIZES = [257, 1_025, 65_537, 300_000, 1_100_000];

export const injectionString = fc.constantFrom(...INJECTION);
export const unicodeString = fc.oneof(
  fc.constantFrom(...UNICODE),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
export const hugeString = fc
  .tuple(fc.constantFrom(...HUGE_SIZES), fc.constantFrom('a', 'é', '😀', '*', '\u0000'))
  // Sized in bytes of its JSON text (a NUL is 6: \u0000), so that a body stays near BODY_LIMIT.
  .map(([n, c]) => c.repeat(Math.ceil(n / (Buffer.byteLength(JSON.stringify(c)) - 2))));

export const hostileString = fc.oneof(
  { arbitrary: injectionString, weight: 4 },
  { arbitrary: unicodeString, weight: 3 },
  { arbitrary: fc.string({ maxLength: 20 }), weight: 2 },
  { arbitrary: hugeString, weight: 1 },
);

export const hostileNumber = fc.oneof(
  fc.constantFrom(
    Number.MAX_SAFE_INTEGER + 2,
    -Number.MAX_SAFE_INTEGER - 2,
    1e308,
    -1e308,
    5e-324,
    -0,
    0.5,
    -1,
    2 ** 31,
    2 ** 53,
  ),
  fc.double(),
  fc.integer(),
);

/** Text a JSON.stringify cannot produce but a client can send as a number or a literal. */
export const hostileNumberText = fc.constantFrom(
  'NaN',
  'Infinity',
  '-Infinity',
  '1e999999',
  '-0',
  '9'.repeat(400),
  '0.' + '0'.repeat(400) + '1',
  '1e-400',
);

/** Object keys that are dangerous when merged or spread into another object. */
export const pollutingKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  '__defineGetter__',
  'hasOwnProperty',
  'toString',
  'valueOf',
);

/** Lists past every maxItems: batch routes must refuse them before touching Redis. */
export const hugeArray = fc
  .tuple(
    fc.constantFrom(33, 101, 1_001, 20_000),
    fc.constantFrom<unknown>('k1', 1, null, {}, 'a'.repeat(300)),
  )
  .map(([n, item]) => Array<unknown>(n).fill(item));

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  hostileNumber,
  hugeArray,
  fc.constantFrom(null, true, false, [], {}, [null], [[[]]], { '': '' }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Deep nesting as raw JSON text: arrays, objects, or a mix; 10k levels by default in the mix. */
export const deeplyNestedJson = fc
  .tuple(fc.constantFrom(64, 1_000, 10_000, 100_000), fc.constantFrom('array', 'object', 'field'))
  .map(([depth, kind]) => {
    if (kind === 'array') return '['.repeat(depth) + ']'.repeat(depth);
    if (kind === 'object') return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    // Nested inside a field every DTO has, so the validators (not the parser) meet it.
    const inner = '{"a":'.repeat(depth) + '{}' + '}'.repeat(depth);
    return `{"session_config":${inner},"memory_data":${inner},"data":${inner},"metadata":${inner}}`;
  });

/** Bodies that are not JSON at all, or not the JSON the header promises. */
export const invalidJsonText = fc.constantFrom(
  '',
  ' ',
  '{',
  '}',
  '{"a":}',
  "{'a':1}",
  '{"a":1,}',
  '[1,2',
  'undefined',
  'NaN',
  '{"a":NaN}',
  '\ufeff{}',
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"a":1,"a":2}',
  'null',
  '0',
  '"string"',
  'true',
  '[]',
  '\u0000',
  '{"a":1}garbage',
);
