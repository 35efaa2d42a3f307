import {
  cacheGlobMatch,
  cacheGlobMatches,
  compileCacheGlob,
  InvalidCacheGlobError,
} from './cache-glob';

describe('compileCacheGlob', () => {
  it('keeps the literal prefix before the first wildcard, to narrow the key walk', () => {
    expect(compileCacheGlob('llm:resp:*')).toEqual({
      source: 'llm:resp:*',
      pattern: 'llm:resp:*',
      prefix: 'llm:resp:',
    });
    expect(compileCacheGlob('tool.?:x')).toMatchObject({ prefix: 'tool.' });
    expect(compileCacheGlob('*:x')).toMatchObject({ prefix: '' });
    expect(compileCacheGlob('exact.key')).toMatchObject({ prefix: 'exact.key' });
  });

  it('collapses runs of * (same meaning) before counting wildcards', () => {
    expect(compileCacheGlob('a***b**')).toMatchObject({ pattern: 'a*b*' });
    expect(() => compileCacheGlob('****a**b**c**d')).not.toThrow();
  });

  it.each([
    ['a character class', 'user:[ab]*', /character classes/],
    ['a negated class', 'user:[^a]', /character classes/],
    ['an escape', 'a\\*', /escapes/],
    ['a closing bracket', 'a]b', /character classes/],
    ['more than 4 wildcards', '*a*b*c*d*', /at most 4 wildcards.*got 5/],
    ['5 question marks', 'k?????', /got 5/],
    ['a brace (hash tag)', 'x{y}*', /may contain only/],
    ['a space', 'a b*', /may contain only/],
    ['a slash', 'a/b*', /may contain only/],
    ['an empty pattern', '', /1-250 characters/],
    ['an over-long pattern', 'a'.repeat(251), /1-250 characters/],
  ])('refuses %s', (_, source, message) => {
    expect(() => compileCacheGlob(source)).toThrow(InvalidCacheGlobError);
    expect(() => compileCacheGlob(source)).toThrow(message);
  });
});

describe('cacheGlobMatches', () => {
  const matches = (pattern: string, key: string) =>
    cacheGlobMatches(compileCacheGlob(pattern), key);

  it.each([
    ['llm:*', 'llm:', true],
    ['llm:*', 'llm:resp:1', true],
    ['llm:*', 'llmx', false],
    ['*:1', 'a:b:1', true],
    ['*:1', 'a:b:12', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a?c', 'abbc', false],
    ['*a*b', 'xxaxxbxxb', true],
    ['*a*b', 'xxaxxbxxc', false],
    ['a.b', 'a.b', true],
    ['a.b', 'axb', false],
    ['*', 'anything', true],
    ['k-?-*', 'k-1-', true],
  ])('%s against %s -> %s', (pattern, key, expected) => {
    expect(matches(pattern, key)).toBe(expected);
  });

  it('does at most key length x pattern length steps on inputs that make backtracking matchers explode', () => {
    const key = 'a'.repeat(250);
    const glob = compileCacheGlob('*a*a*a*b');
    const { matched, steps } = cacheGlobMatch(glob, key);
    expect(matched).toBe(false);
    // An exponential matcher takes ~C(250, 3) = 2.5M steps here; ours is bounded by the product.
    expect(steps).toBeLessThanOrEqual((key.length + 1) * glob.pattern.length);
  });
});
