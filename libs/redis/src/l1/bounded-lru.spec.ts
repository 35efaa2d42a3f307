import { BoundedLru } from './bounded-lru';

describe('BoundedLru', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => (now = 1000));

  it('keeps at most maxEntries, dropping the least recently used first', () => {
    const lru = new BoundedLru<string>(2, 10_000, clock);
    lru.set('a', 'A', now);
    lru.set('b', 'B', now);
    expect(lru.get('a')).toBe('A'); // a is now the most recently used
    lru.set('c', 'C', now);
    expect(lru.size).toBe(2);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe('A');
    expect(lru.get('c')).toBe('C');
  });

  it('does not serve an entry ttlMs after it was read from Redis, counted from the read', () => {
    const lru = new BoundedLru<string>(10, 500, clock);
    const readAt = now;
    now += 200; // the reply took 200 ms
    lru.set('a', 'A', readAt);
    now = readAt + 499;
    expect(lru.get('a')).toBe('A');
    now = readAt + 500;
    expect(lru.get('a')).toBeUndefined();
    expect(lru.size).toBe(0);
  });

  it('caps an entry by its own deadline when that comes before the TTL', () => {
    const lru = new BoundedLru<string>(10, 10_000, clock);
    lru.set('a', 'A', now, now + 50);
    now += 49;
    expect(lru.get('a')).toBe('A');
    now += 1;
    expect(lru.get('a')).toBeUndefined();
  });

  it('stores nothing whose deadline has already passed', () => {
    const lru = new BoundedLru<string>(10, 100, clock);
    lru.set('late', 'A', now - 100);
    lru.set('expired', 'B', now, now);
    expect(lru.size).toBe(0);
  });

  it('re-setting a key replaces its value and deadline; delete and clear empty it', () => {
    const lru = new BoundedLru<string>(10, 100, clock);
    lru.set('a', 'old', now);
    now += 90;
    lru.set('a', 'new', now);
    now += 50;
    expect(lru.get('a')).toBe('new');
    lru.delete('a');
    expect(lru.get('a')).toBeUndefined();
    lru.set('b', 'B', now);
    lru.clear();
    expect(lru.size).toBe(0);
  });

  it('refuses bounds that would make it unbounded or useless', () => {
    expect(() => new BoundedLru(0, 100)).toThrow(RangeError);
    expect(() => new BoundedLru(1.5, 100)).toThrow(RangeError);
    expect(() => new BoundedLru(10, 0)).toThrow(RangeError);
  });
});
