/**
 * The glob language of pattern invalidation: `*` (any run of characters, possibly empty) and `?`
 * (exactly one character) over cache keys; every other character is literal. Character classes
 * and escapes are refused, and so are patterns with more than a few wildcards: every wildcard
 * multiplies the work of matching, and matching runs inside Redis.
 *
 * Matching is done by the invalidation script itself (a linear-backtracking matcher, see
 * cache.scripts.ts), not by ZSCAN ... MATCH: deleting while a ZSCAN is under way shrinks the
 * sorted set's hash table, after which single SCAN steps return tens of thousands of members
 * (measured: 14 ms steps at 100k entries, growing with size). A lexicographic walk with an
 * exclusive cursor stays bounded however much is deleted.
 */
export const MAX_GLOB_WILDCARDS = 4;
export const MAX_GLOB_LENGTH = 250;

const GLOB_ALPHABET = /^[A-Za-z0-9._:*?-]+$/;

export class InvalidCacheGlobError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidCacheGlobError';
  }
}

/** A validated pattern. Only {@link compileCacheGlob} makes one. */
export interface CacheGlob {
  /** As the caller wrote it. */
  readonly source: string;
  /** Runs of `*` collapsed into one (same meaning, less matching work). */
  readonly pattern: string;
  /** The literal characters before the first wildcard: only keys in this range are looked at. */
  readonly prefix: string;
}

export function compileCacheGlob(source: string): CacheGlob {
  if (source.length === 0 || source.length > MAX_GLOB_LENGTH) {
    throw new InvalidCacheGlobError(`must be 1-${MAX_GLOB_LENGTH} characters`);
  }
  if (/[[\]\\^]/.test(source)) {
    throw new InvalidCacheGlobError(
      'character classes ([...]) and escapes (\\) are not supported; use * and ? only',
    );
  }
  if (!GLOB_ALPHABET.test(source)) {
    throw new InvalidCacheGlobError(
      'may contain only A-Z a-z 0-9 . _ : - and the wildcards * and ?',
    );
  }
  const pattern = source.replace(/\*{2,}/g, '*');
  const wildcards = pattern.replace(/[^*?]/g, '').length;
  if (wildcards > MAX_GLOB_WILDCARDS) {
    throw new InvalidCacheGlobError(
      `may contain at most ${MAX_GLOB_WILDCARDS} wildcards (* or ?), got ${wildcards}`,
    );
  }
  const firstWildcard = pattern.search(/[*?]/);
  return { source, pattern, prefix: firstWildcard < 0 ? pattern : pattern.slice(0, firstWildcard) };
}

/**
 * The same matching the invalidation script does, for tests and for callers that want to preview.
 * Greedy with one backtrack point (the last `*`): O(key length x pattern length), never exponential.
 */
export function cacheGlobMatches(glob: CacheGlob, key: string): boolean {
  return cacheGlobMatch(glob, key).matched;
}

/**
 * The match and the number of steps it took: the work bound is a property of the algorithm, so the
 * tests check steps, not wall-clock time (a timed assertion fails on a loaded machine).
 */
export function cacheGlobMatch(glob: CacheGlob, key: string): { matched: boolean; steps: number } {
  const p = glob.pattern;
  let k = 0;
  let g = 0;
  let star = -1;
  let mark = 0;
  let steps = 0;
  while (k < key.length) {
    steps++;
    if (g < p.length && (p[g] === '?' || p[g] === key[k])) {
      k++;
      g++;
    } else if (g < p.length && p[g] === '*') {
      star = g++;
      mark = k;
    } else if (star >= 0) {
      g = star + 1;
      k = ++mark;
    } else {
      return { matched: false, steps };
    }
  }
  while (g < p.length && p[g] === '*') g++;
  return { matched: g === p.length, steps };
}
