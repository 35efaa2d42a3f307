import type { ServerResponse } from 'node:http';
import { compareEventIds, type EventsRepository, type StoredEvent } from '@app/redis';
import { toEventView, type EventDto } from './event-view';

/** Events read per replay step (XRANGE COUNT). */
const REPLAY_PAGE = 500;
/** Live events held for a subscriber while it replays, or unsent in its socket buffer. */
const MAX_PENDING_EVENTS = 10_000;
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** What a client waits before reconnecting (the SSE `retry:` field). */
const RECONNECT_MS = 2000;

export interface EventStreamOptions {
  tenant: string;
  /** Replay after this id; undefined = start with the next change. */
  since?: string;
  visible: (event: EventDto) => boolean;
  heartbeatMs: number;
}

/**
 * One subscriber's Server-Sent Events stream: replays what it missed, then relays what the shared
 * reader hands out, with an `id:` per event (the browser's EventSource sends it back as
 * Last-Event-ID) and a comment line as heartbeat. A subscriber that cannot keep up is disconnected
 * rather than buffered without bound; it resumes from its last id.
 */
export class EventStream {
  private closed = false;
  private live = false;
  private pending: StoredEvent[] = [];
  private cursor = '0-0';
  private heartbeat?: NodeJS.Timeout;
  private unsubscribe?: () => void;

  constructor(
    private readonly raw: ServerResponse,
    private readonly repository: EventsRepository,
    private readonly options: EventStreamOptions,
  ) {}

  /** Starts streaming; resolves once the replay is done (the stream then stays open). */
  async start(): Promise<void> {
    this.raw.once('close', () => this.stop());
    this.raw.write(`retry: ${RECONNECT_MS}\n: connected\n\n`);
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), this.options.heartbeatMs);
    this.heartbeat.unref();

    const subscription = await this.repository.subscribe(this.options.tenant, (events) =>
      this.onLive(events),
    );
    this.unsubscribe = () => subscription.unsubscribe();
    if (this.closed) return this.unsubscribe();
    this.cursor = this.options.since ?? subscription.position;
    await this.replay(subscription.position);
    this.live = true;
    const held = this.pending;
    this.pending = [];
    this.send(held);
  }

  /** Ends the stream from our side (shutdown); the client reconnects elsewhere with its last id. */
  end(): void {
    if (this.closed) return;
    this.raw.end();
    this.stop();
  }

  private async replay(until: string): Promise<void> {
    while (!this.closed && compareEventIds(this.cursor, until) < 0) {
      const page = await this.repository.range(this.options.tenant, this.cursor, REPLAY_PAGE);
      const upTo = page.filter((event) => compareEventIds(event.id, until) <= 0);
      this.send(upTo);
      if (upTo.length < REPLAY_PAGE) return;
      if (this.raw.writableNeedDrain)
        await new Promise((resolve) => this.raw.once('drain', resolve));
    }
  }

  private onLive(events: StoredEvent[]): void {
    if (this.closed) return;
    if (!this.live) {
      this.pending.push(...events);
      if (this.pending.length > MAX_PENDING_EVENTS) this.end();
      return;
    }
    this.send(events);
  }

  private send(events: StoredEvent[]): void {
    for (const event of events) {
      // The replay and the live feed meet at the subscription position: nothing twice.
      if (compareEventIds(event.id, this.cursor) <= 0) continue;
      this.cursor = event.id;
      const view = toEventView(this.options.tenant, event);
      if (!this.options.visible(view)) continue;
      this.write(`id: ${view.event_id}\nevent: ${view.type}\ndata: ${JSON.stringify(view)}\n\n`);
    }
    if (this.raw.writableLength > MAX_BUFFERED_BYTES) this.end();
  }

  private write(chunk: string): void {
    if (!this.closed) this.raw.write(chunk);
  }

  private stop(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.unsubscribe?.();
  }
}
