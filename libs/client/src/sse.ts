import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from './errors';
import { retryAfterMs } from './retry';

/** One Server-Sent Event as dispatched (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export interface ServerSentEvent {
  /** The `id:` of the event, or of the last event that had one (the resume point). */
  id: string | undefined;
  /** `event:` or "message". */
  event: string;
  /** The `data:` lines joined by "\n". */
  data: string;
}

export interface SubscribeOptions {
  baseUrl: string;
  /** Default `/api/v1/events`. */
  path?: string;
  /** Query parameters (e.g. `types`, `resource_type`, `resource_id`). */
  query?: Record<string, string>;
  /** A bearer token or the current one from a function (called on every connect). */
  token?: string | (() => string | Promise<string>);
  apiKey?: string;
  /** Resume after this event id (sent as Last-Event-ID on the first connect). */
  lastEventId?: string;
  /** Wait before reconnecting when the server named none (`retry:`); jittered. Default 1000. */
  reconnectDelayMs?: number;
  /** Consecutive failed connects before giving up (a connect that delivered events resets it). */
  maxReconnects?: number;
  signal?: AbortSignal;
  fetch?: (request: Request) => Promise<Response>;
}

/** Statuses after which reconnecting cannot help (bad request, credentials, `since` too old...). */
const FINAL_STATUSES = new Set([400, 401, 403, 404, 410, 422]);

/**
 * Splits a text/event-stream into events. Handles LF, CRLF and CR line ends, comments (heartbeats,
 * lines starting with ':'), multi-line data, `id:` (kept across events, ignored when it contains
 * NUL, as the spec says) and `retry:`.
 */
export class EventStreamParser {
  lastEventId: string | undefined;
  retryMs: number | undefined;
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private hasData = false;

  constructor(lastEventId?: string) {
    this.lastEventId = lastEventId;
  }

  /** Feeds a chunk of text; returns the events it completed. */
  push(chunk: string): ServerSentEvent[] {
    this.buffer += chunk;
    const events: ServerSentEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      // A lone CR at the very end may be the first half of CRLF: wait for more.
      if (!match || (match[0] === '\r' && match.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): ServerSentEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        this.hasData = true;
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
    }
    return undefined;
  }

  private dispatch(): ServerSentEvent | undefined {
    const event = this.hasData
      ? { id: this.lastEventId, event: this.event || 'message', data: this.data.join('\n') }
      : undefined;
    this.data = [];
    this.event = '';
    this.hasData = false;
    return event;
  }
}

/**
 * Subscribes to a Server-Sent Events endpoint and yields its events for as long as the caller
 * iterates. After a disconnect it reconnects with `Last-Event-ID` set to the last id received, so
 * the server resumes right after it (no gap, no repeat). Stop with `break` or the signal (the
 * iteration then ends without an error).
 * An answer that reconnecting cannot fix (400, 401, 403, 404, 410, 422) throws {@link ApiError}.
 */
export async function* subscribe(options: SubscribeOptions): AsyncGenerator<ServerSentEvent> {
  const fetchImpl = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const url = new URL(options.path ?? '/api/v1/events', options.baseUrl);
  for (const [name, value] of Object.entries(options.query ?? {})) {
    url.searchParams.set(name, value);
  }
  const parser = new EventStreamParser(options.lastEventId);
  const maxReconnects = options.maxReconnects ?? 10;
  const controller = new AbortController();
  const abort = () => controller.abort();
  options.signal?.addEventListener('abort', abort, { once: true });
  let failures = 0;
  try {
    while (!controller.signal.aborted) {
      let waitMs: number | undefined;
      let delivered = false;
      try {
        const response = await fetchImpl(await connectRequest(url, options, parser, controller));
        if (!response.ok) {
          const error = await ApiError.fromResponse(new Request(url), response);
          if (FINAL_STATUSES.has(response.status)) throw error;
          waitMs = retryAfterMs(response.headers.get('retry-after'));
        } else if (response.body) {
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          try {
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              for (const event of parser.push(value)) {
                delivered = true;
                yield event;
              }
            }
          } finally {
            reader.releaseLock();
          }
        }
      } catch (error) {
        if (error instanceof ApiError) throw error;
        // Aborted by the caller: the subscription simply ends.
        if (controller.signal.aborted) return;
        // A dropped connection: reconnect below.
      }
      failures = delivered ? 0 : failures + 1;
      if (failures > maxReconnects) {
        throw new Error(`event stream ${url.pathname}: gave up after ${maxReconnects} reconnects`);
      }
      const base = waitMs ?? parser.retryMs ?? options.reconnectDelayMs ?? 1000;
      await sleep(base + Math.random() * Math.min(1000, base * 0.2), undefined, {
        signal: controller.signal,
      }).catch(() => undefined);
    }
  } finally {
    options.signal?.removeEventListener('abort', abort);
    controller.abort();
  }
}

async function connectRequest(
  url: URL,
  options: SubscribeOptions,
  parser: EventStreamParser,
  controller: AbortController,
): Promise<Request> {
  const headers = new Headers({ Accept: 'text/event-stream', 'Cache-Control': 'no-cache' });
  if (parser.lastEventId !== undefined) headers.set('Last-Event-ID', parser.lastEventId);
  if (options.apiKey !== undefined) headers.set('X-API-Key', options.apiKey);
  else if (options.token !== undefined) {
    const token = typeof options.token === 'function' ? await options.token() : options.token;
    headers.set('Authorization', `Bearer ${token}`);
  }
  return new Request(url, { headers, signal: controller.signal });
}
