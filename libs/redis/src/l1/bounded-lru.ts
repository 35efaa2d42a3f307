interface Slot<V> {
  value: V;
  /** Monotonic clock (performance.now) past which the entry is not served. */
  staleAt: number;
}

/**
 * A map bounded by entry count (least recently used goes first) and by age. Age is measured on the
 * monotonic clock from a time the caller gives (when its read was issued, not when it was answered),
 * so an entry is never served later than `ttlMs` after the value was read from Redis.
 */
export class BoundedLru<V> {
  // A Map iterates in insertion order: re-inserting on a hit makes its first key the LRU one.
  private readonly slots = new Map<string, Slot<V>>();

  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries < 1');
    if (!(ttlMs > 0)) throw new RangeError('ttlMs must be positive');
  }

  get size(): number {
    return this.slots.size;
  }

  get(key: string): V | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    if (this.now() >= slot.staleAt) {
      this.slots.delete(key);
      return undefined;
    }
    this.slots.delete(key);
    this.slots.set(key, slot);
    return slot.value;
  }

  /** `readAt`: the monotonic time the value was asked of Redis; `staleAt` is capped from there. */
  set(key: string, value: V, readAt: number, staleAt = Infinity): void {
    const until = Math.min(readAt + this.ttlMs, staleAt);
    if (this.now() >= until) return;
    this.slots.delete(key);
    this.slots.set(key, { value, staleAt: until });
    while (this.slots.size > this.maxEntries) {
      const oldest = this.slots.keys().next().value as string;
      this.slots.delete(oldest);
    }
  }

  delete(key: string): void {
    this.slots.delete(key);
  }

  clear(): void {
    this.slots.clear();
  }
}
