/** One change event as stored in a tenant's stream (see EVENTS_PRELUDE). */
export interface StoredEvent {
  /** The stream entry id: `<ms>-<seq>`, ordered, and the time the change happened. */
  id: string;
  type: string;
  resourceType: string;
  /** Sessions: the id. Memory: `<encoded agent>:<session>`. Cache: the cache key. */
  resourceId: string;
  version: number | null;
  actor: string;
}

/** What the stream still holds, to tell a resumable position from one lost to retention. */
export interface EventStreamBounds {
  /** Oldest entry still held, or null when the stream is empty. */
  first: string | null;
  /** Newest entry ever appended ('0-0' for none): where a live subscription starts. */
  last: string;
  /**
   * Entries removed by retention trimming so far (entries ever added minus length: nothing else
   * deletes). Redis 7.0 does not record the newest trimmed id, so a position older than `first`
   * counts as lost whenever anything was trimmed.
   */
  trimmed: number;
}

export type EventListener = (events: StoredEvent[]) => void;

export interface EventSubscription {
  /** Everything after this id reaches the listener; a subscriber replays up to it with range(). */
  position: string;
  unsubscribe(): void;
}

/**
 * Reads a tenant's change feed. Live delivery is shared: one blocking reader per process serves
 * every subscriber of every tenant, so idle subscribers cost no Redis connection each.
 */
export abstract class EventsRepository {
  /** Up to `count` events after `after` (exclusive), oldest first. */
  abstract range(tenant: string, after: string, count: number): Promise<StoredEvent[]>;
  /** Up to `count` events from `from` (inclusive), oldest first. */
  abstract rangeFrom(tenant: string, from: string, count: number): Promise<StoredEvent[]>;
  abstract bounds(tenant: string): Promise<EventStreamBounds>;
  abstract subscribe(tenant: string, listener: EventListener): Promise<EventSubscription>;
}

export const EVENT_ID_PATTERN = /^\d{1,20}-\d{1,20}$/;

/** Orders two stream ids (`<ms>-<seq>`): negative, zero or positive like a comparator. */
export function compareEventIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}
