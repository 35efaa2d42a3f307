import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { createRedisClient, type RedisClient } from '../connection/redis-client.factory';
import { RedisKeyBuilder } from '../keys/redis-key-builder';
import { REDIS_CLIENT } from '../redis.constants';
import { REDIS_MODULE_OPTIONS, type RedisModuleOptions } from '../redis.module-definition';
import { storeCall } from '../store-errors';
import {
  EventsRepository,
  type EventListener,
  type EventStreamBounds,
  type EventSubscription,
  type StoredEvent,
} from './events.repository';

/** How long one shared XREAD blocks; also the longest a new tenant waits when it cannot unblock. */
const BLOCK_MS = 2000;
/** Entries one shared read takes per stream; the next read continues where it stopped. */
const READ_COUNT = 500;
const RETRY_PAUSE_MS = 1000;
/** On Cluster (no blocking read across slots): pause between polls that found nothing. */
const CLUSTER_POLL_MS = 250;

type RawEntry = [id: string, fields: string[]];

interface TenantFeed {
  stream: string;
  /** The last id the shared reader has handed out for this tenant. */
  position: string;
  listeners: Set<EventListener>;
}

@Injectable()
export class RedisEventsRepository extends EventsRepository implements OnApplicationShutdown {
  private readonly logger = new Logger('EventsReader');
  private readonly feeds = new Map<string, TenantFeed>();
  private readonly joining = new Map<string, Promise<TenantFeed>>();
  /** The one connection per process that blocks in XREAD (created on the first subscriber). */
  private reader?: RedisClient;
  private readerId?: number;
  private running = false;
  private stopped = false;

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    @Inject(REDIS_MODULE_OPTIONS) private readonly options: RedisModuleOptions,
    private readonly keys: RedisKeyBuilder,
  ) {
    super();
  }

  async range(tenant: string, after: string, count: number): Promise<StoredEvent[]> {
    return this.rangeFrom(tenant, `(${after}`, count);
  }

  async rangeFrom(tenant: string, from: string, count: number): Promise<StoredEvent[]> {
    const stream = this.keys.events(tenant).stream;
    const entries = (await storeCall(() =>
      this.redis.xrange(stream, from, '+', 'COUNT', count),
    )) as RawEntry[];
    return entries.map(toEvent);
  }

  async bounds(tenant: string): Promise<EventStreamBounds> {
    const stream = this.keys.events(tenant).stream;
    const info = await storeCall(() =>
      (this.redis.xinfo('STREAM', stream) as Promise<unknown[]>).catch((error: Error) => {
        if (/no such key/i.test(error.message)) return null;
        throw error;
      }),
    );
    if (info === null) return { first: null, last: '0-0', trimmed: 0 };
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < info.length; i += 2) fields.set(String(info[i]), info[i + 1]);
    const firstEntry = fields.get('first-entry') as RawEntry | null | undefined;
    const last = fields.get('last-generated-id');
    return {
      first: firstEntry ? firstEntry[0] : null,
      last: typeof last === 'string' ? last : '0-0',
      trimmed: Number(fields.get('entries-added') ?? 0) - Number(fields.get('length') ?? 0),
    };
  }

  async subscribe(tenant: string, listener: EventListener): Promise<EventSubscription> {
    const feed = await this.feedOf(tenant);
    feed.listeners.add(listener);
    return {
      position: feed.position,
      unsubscribe: () => {
        feed.listeners.delete(listener);
        if (feed.listeners.size === 0 && this.feeds.get(tenant) === feed) this.feeds.delete(tenant);
      },
    };
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    this.feeds.clear();
    this.reader?.disconnect();
  }

  /** How many tenants the shared reader follows (for tests and metrics). */
  followedTenants(): number {
    return this.feeds.size;
  }

  private async feedOf(tenant: string): Promise<TenantFeed> {
    const existing = this.feeds.get(tenant);
    if (existing) return existing;
    let joining = this.joining.get(tenant);
    if (!joining) {
      joining = this.join(tenant).finally(() => this.joining.delete(tenant));
      this.joining.set(tenant, joining);
    }
    return joining;
  }

  /** Starts following a tenant from its newest entry; wakes the reader so it reads it at once. */
  private async join(tenant: string): Promise<TenantFeed> {
    const { last } = await this.bounds(tenant);
    const feed: TenantFeed = {
      stream: this.keys.events(tenant).stream,
      position: last,
      listeners: new Set(),
    };
    this.feeds.set(tenant, feed);
    if (!this.running) void this.loop();
    else await this.wakeReader();
    return feed;
  }

  private async wakeReader(): Promise<void> {
    // Only a standalone/Sentinel reader has one id to unblock; on Cluster a new tenant waits up to
    // BLOCK_MS for the next read.
    if (this.readerId === undefined || !(this.redis instanceof Redis)) return;
    await this.redis.client('UNBLOCK', this.readerId).catch(() => undefined);
  }

  private connectReader(): RedisClient {
    if (this.reader) return this.reader;
    const reader = createRedisClient({
      url: this.options.url,
      connectTimeoutMs: this.options.connectTimeoutMs,
      // A blocked read must not count as a stalled server.
      commandTimeoutMs: BLOCK_MS + this.options.commandTimeoutMs,
    });
    reader.on('error', () => undefined);
    reader.on('ready', () => {
      if (reader instanceof Redis) {
        void reader
          .client('ID')
          .then((id) => (this.readerId = Number(id)))
          .catch(() => undefined);
      }
    });
    this.reader = reader;
    return reader;
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      const reader = this.connectReader();
      while (!this.stopped && this.feeds.size > 0) {
        const feeds = [...this.feeds.values()];
        try {
          if (reader instanceof Redis) await this.readBlocking(reader, feeds);
          else await this.poll(reader, feeds);
        } catch (error) {
          if (this.stopped) break;
          this.logger.warn(`shared event read failed: ${(error as Error).message}`);
          await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
        }
      }
    } finally {
      this.running = false;
    }
    // A subscriber that joined while the loop was ending needs a reader again.
    if (!this.stopped && this.feeds.size > 0) void this.loop();
  }

  /** Standalone and Sentinel: one XREAD BLOCK over every followed tenant's stream. */
  private async readBlocking(reader: Redis, feeds: TenantFeed[]): Promise<void> {
    const reply = await reader.xread(
      'COUNT',
      READ_COUNT,
      'BLOCK',
      BLOCK_MS,
      'STREAMS',
      ...feeds.map((feed) => feed.stream),
      ...feeds.map((feed) => feed.position),
    );
    for (const [stream, entries] of reply ?? []) {
      const feed = feeds.find((candidate) => candidate.stream === stream);
      if (feed) this.dispatch(feed, entries);
    }
  }

  /**
   * Cluster: streams of several tenants live in different slots, and one XREAD over them is
   * refused (CROSSSLOT), so each followed tenant is read without blocking, then the reader pauses.
   */
  private async poll(reader: RedisClient, feeds: TenantFeed[]): Promise<void> {
    let found = false;
    for (const feed of feeds) {
      const reply = await reader.xread('COUNT', READ_COUNT, 'STREAMS', feed.stream, feed.position);
      for (const [, entries] of reply ?? []) found = this.dispatch(feed, entries) || found;
    }
    if (!found) await new Promise((resolve) => setTimeout(resolve, CLUSTER_POLL_MS));
  }

  private dispatch(feed: TenantFeed, entries: RawEntry[]): boolean {
    if (entries.length === 0) return false;
    feed.position = entries[entries.length - 1][0];
    const events = entries.map(toEvent);
    for (const listener of feed.listeners) listener(events);
    return true;
  }
}

function toEvent([id, fields]: RawEntry): StoredEvent {
  const value = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) value.set(fields[i], fields[i + 1]);
  const version = value.get('v') ?? '';
  return {
    id,
    type: value.get('t') ?? '',
    resourceType: value.get('rt') ?? '',
    resourceId: value.get('rid') ?? '',
    version: version === '' ? null : Number(version),
    actor: value.get('a') ?? '',
  };
}
