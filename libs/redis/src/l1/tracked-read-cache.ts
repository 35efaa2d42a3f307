import type Redis from 'ioredis';
import { breakerOf } from '../connection/breaker-gate';
import { BoundedLru } from './bounded-lru';

/** The Pub/Sub channel Redis sends RESP2 client-side-caching invalidations on (REDIRECT mode). */
export const INVALIDATION_CHANNEL = '__redis__:invalidate';

export interface L1Options {
  maxEntries: number;
  ttlMs: number;
}

export type L1Log = (level: 'log' | 'warn', message: string) => void;

/** One read in flight: an invalidation of its key, or a reset, while it waits forbids the fill. */
interface Ticket {
  epoch: number;
  stale: boolean;
}

/**
 * An in-process L1 in front of Redis reads, kept coherent with Redis server-assisted client-side
 * caching. `reader` runs the reads with `CLIENT TRACKING ON REDIRECT <subscriber id>`, so Redis
 * remembers every key it read and sends an invalidation to `subscriber` (subscribed to
 * __redis__:invalidate, RESP2) when any client changes, deletes or expires one.
 *
 * The L1 only answers while both connections are up and tracking was confirmed after their
 * latest connect: an invalidation sent while either was down is lost, so a close of either, a
 * flush message (null key) or a failed CLIENT TRACKING clears it and reads go to Redis until set-up
 * succeeds again. Every entry is also bounded by `ttlMs` from when it was read, which caps the
 * damage of an invalidation that never arrives (a half-open subscriber socket). While a circuit
 * breaker on the reader refuses commands, the L1 is bypassed too (see read).
 */
export class TrackedReadCache<V> {
  private readonly lru: BoundedLru<V>;
  private readonly pending = new Map<string, Set<Ticket>>();
  /** Bumped by every reset, so reads started before it never fill. */
  private epoch = 0;
  private tracking = false;
  private subscriberId: string | undefined;
  /** Bumped by every close and set-up step, so a set-up overtaken by a reconnect gives up. */
  private subscriberGeneration = 0;
  private trackingGeneration = 0;
  private closed = false;

  constructor(
    private readonly reader: Redis,
    private readonly subscriber: Redis,
    options: L1Options,
    private readonly log: L1Log,
  ) {
    this.lru = new BoundedLru<V>(options.maxEntries, options.ttlMs);
    subscriber.on('messageBuffer', (channel: Buffer, message: unknown) => {
      if (channel.toString() !== INVALIDATION_CHANNEL) return;
      if (Array.isArray(message)) {
        for (const key of message as Buffer[]) this.invalidate(key.toString());
      } else {
        // A null key list: FLUSHALL/FLUSHDB. Everything goes; tracking itself is still intact.
        this.epoch++;
        this.lru.clear();
        this.log('log', 'session L1 cache cleared: Redis flushed its keys');
      }
    });
    subscriber.on('ready', () => void this.subscribe());
    reader.on('ready', () => void this.enableTracking());
    for (const connection of [reader, subscriber]) {
      // An outage is logged once, by the reset on 'close'; ioredis repeats 'error' per retry.
      connection.on('error', () => undefined);
      connection.on('close', () => {
        if (connection === subscriber) {
          this.subscriberId = undefined;
          this.subscriberGeneration++;
        }
        this.trackingGeneration++;
        this.reset('a tracking connection closed');
      });
    }
    if (subscriber.status === 'ready') void this.subscribe();
  }

  /** True while invalidations are known to arrive; the L1 answers only then. */
  get active(): boolean {
    return this.tracking;
  }

  get size(): number {
    return this.lru.size;
  }

  /**
   * The cached value of `key`, or `load` through the tracked connection (filling the L1 if no
   * invalidation of the key, and no reset, happened while it was in flight). While inactive:
   * `fallback`, which reads without tracking, and nothing is cached.
   *
   * `keepUntil(value)`: monotonic time past which the value must not be served (its own expiry),
   * or undefined to not cache it at all.
   */
  async read(
    key: string,
    load: (reader: Redis) => Promise<V>,
    fallback: () => Promise<V>,
    keepUntil: (value: V) => number | undefined,
  ): Promise<V> {
    // The reader's breaker would refuse (open, or half-open with its trial out): the L1 is
    // bypassed, so reads go through the main client and its own breaker instead of a 503 here.
    if (!this.tracking || breakerOf(this.reader)?.refusing) return fallback();
    const hit = this.lru.get(key);
    if (hit !== undefined) return hit;
    const ticket: Ticket = { epoch: this.epoch, stale: false };
    let tickets = this.pending.get(key);
    if (tickets === undefined) this.pending.set(key, (tickets = new Set()));
    tickets.add(ticket);
    const readAt = performance.now();
    try {
      const value = await load(this.reader);
      if (!ticket.stale && ticket.epoch === this.epoch && this.tracking) {
        const until = keepUntil(value);
        if (until !== undefined) this.lru.set(key, value, readAt, until);
      }
      return value;
    } finally {
      tickets.delete(ticket);
      if (tickets.size === 0 && this.pending.get(key) === tickets) this.pending.delete(key);
    }
  }

  /** Drops `key` and spoils reads of it in flight (Redis' message, or a write of this process). */
  invalidate(key: string): void {
    this.lru.delete(key);
    const tickets = this.pending.get(key);
    if (tickets) for (const ticket of tickets) ticket.stale = true;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.reset('shutting down', true);
    await Promise.all(
      [this.reader, this.subscriber].map((client) =>
        client.quit().catch(() => client.disconnect()),
      ),
    );
  }

  private reset(reason: string, quiet = false): void {
    this.epoch++;
    this.lru.clear();
    if (!this.tracking) return;
    this.tracking = false;
    if (!quiet)
      this.log('warn', `session L1 cache cleared and off until tracking resumes: ${reason}`);
  }

  private async subscribe(): Promise<void> {
    const generation = ++this.subscriberGeneration;
    try {
      // CLIENT ID first: a RESP2 connection in subscribed mode accepts only (UN)SUBSCRIBE and PING.
      const id = String(await this.subscriber.client('ID'));
      await this.subscriber.subscribe(INVALIDATION_CHANNEL);
      if (generation !== this.subscriberGeneration) return;
      this.subscriberId = id;
      await this.enableTracking();
    } catch (error) {
      this.failed(error);
    }
  }

  private async enableTracking(): Promise<void> {
    if (this.closed || this.reader.status !== 'ready' || this.subscriberId === undefined) return;
    const generation = ++this.trackingGeneration;
    const redirect = this.subscriberId;
    try {
      // Also after a reconnect of the subscriber alone: ON again with the new REDIRECT is allowed,
      // and keys the reader tracked before are then invalidated to the new subscriber.
      await this.reader.client('TRACKING', 'ON', 'REDIRECT', redirect);
      if (generation !== this.trackingGeneration || redirect !== this.subscriberId) return;
      this.epoch++;
      this.lru.clear();
      this.tracking = true;
      this.log('log', `session L1 cache on (tracking redirected to client ${redirect})`);
    } catch (error) {
      this.failed(error);
    }
  }

  private failed(error: unknown): void {
    if (this.closed) return;
    this.log(
      'warn',
      `session L1 cache stays off: tracking could not be enabled (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}
