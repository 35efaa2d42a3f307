import { request, type ClientRequest, type IncomingMessage } from 'node:http';

export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/**
 * A minimal Server-Sent Events client over node:http (supertest buffers whole responses, which a
 * stream never ends): collects messages and comment lines as they arrive.
 */
export class SseClient {
  readonly messages: SseMessage[] = [];
  comments = 0;
  status = 0;
  headers: IncomingMessage['headers'] = {};
  /** The body of a refused subscription (not an event stream). */
  body = '';
  ended = false;
  private req?: ClientRequest;
  private buffer = '';

  static async open(url: string, headers: Record<string, string>): Promise<SseClient> {
    const client = new SseClient();
    await new Promise<void>((resolve, reject) => {
      client.req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        client.status = res.statusCode ?? 0;
        client.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => client.feed(chunk));
        res.on('end', () => (client.ended = true));
        res.on('close', () => (client.ended = true));
        resolve();
      });
      client.req.on('error', (error) => (client.ended ? undefined : reject(error)));
      client.req.end();
    });
    return client;
  }

  /** Parsed `data:` of every message, as JSON. */
  events<T = Record<string, unknown>>(): T[] {
    return this.messages.map((message) => JSON.parse(message.data) as T);
  }

  async waitFor(count: number, timeoutMs = 5000): Promise<SseMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      if (Date.now() > deadline) {
        throw new Error(`expected ${count} events, got ${this.messages.length}: ${this.types()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.messages;
  }

  types(): string {
    return this.messages.map((message) => message.event).join(', ');
  }

  close(): void {
    this.req?.destroy();
  }

  private feed(chunk: string): void {
    if (!String(this.headers['content-type'] ?? '').startsWith('text/event-stream')) {
      this.body += chunk;
      return;
    }
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const message: SseMessage = { data: '' };
      let hasData = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments++;
        else if (line.startsWith('id: ')) message.id = line.slice(4);
        else if (line.startsWith('event: ')) message.event = line.slice(7);
        else if (line.startsWith('data: ')) {
          message.data += line.slice(6);
          hasData = true;
        }
      }
      if (hasData) this.messages.push(message);
    }
  }
}
