import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError } from './errors';
import { EventStreamParser, subscribe, type ServerSentEvent } from './sse';

/**
 * A tiny SSE server with the events endpoint's wire format: `id:` on every event, heartbeats as
 * comments. It keeps a log of events 1..total; a connection replays from Last-Event-ID, sends at
 * most `perConnection` events and then drops the socket (a disconnect the client must survive).
 */
async function sseServer(total: number, perConnection: number) {
  const connections: {
    lastEventId: string | undefined;
    auth: string | undefined;
    query: string;
  }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const lastEventId = req.headers['last-event-id'] as string | undefined;
    connections.push({
      lastEventId,
      auth: req.headers.authorization,
      query: new URL(req.url ?? '/', 'http://x').search,
    });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(': heartbeat\n\nretry: 50\n\n');
    const from = lastEventId === undefined ? 1 : Number(lastEventId) + 1;
    let sent = 0;
    for (let id = from; id <= total && sent < perConnection; id++, sent++) {
      const data = JSON.stringify({ event_id: String(id), type: 'session.updated' });
      // Split one event over two writes, with a CRLF line end: the parser must not care.
      res.write(`id: ${id}\r\nevent: session.updated\r\n`);
      res.write(`data: ${data}\r\n\r\n`);
    }
    if (from + sent > total) res.end();
    else setTimeout(() => res.destroy(), 10);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('SSE subscription helper', () => {
  it('parses ids, event names, multi-line data, comments and retry across chunk boundaries', () => {
    const parser = new EventStreamParser();
    const events: ServerSentEvent[] = [
      ...parser.push(': hello\n\nid: 7\nevent: memory.patched\ndata: {"a":'),
      ...parser.push('1}\ndata: second line\r'),
      ...parser.push('\n\r\ndata: no id of its own\n\nretry: 250\nid: bad\0id\n\n'),
    ];
    expect(events).toEqual([
      { id: '7', event: 'memory.patched', data: '{"a":1}\nsecond line' },
      { id: '7', event: 'message', data: 'no id of its own' },
    ]);
    expect(parser.retryMs).toBe(250);
    expect(parser.lastEventId).toBe('7');
  });

  it('resumes from the last id after a disconnect: every event once, in order', async () => {
    const server = await sseServer(7, 3);
    try {
      const received: string[] = [];
      for await (const event of subscribe({
        baseUrl: server.url,
        token: 'jwt-sse',
        query: { types: 'session.updated' },
        reconnectDelayMs: 20,
      })) {
        expect(event.event).toBe('session.updated');
        received.push((JSON.parse(event.data) as { event_id: string }).event_id);
        if (received.length === 7) break;
      }
      expect(received).toEqual(['1', '2', '3', '4', '5', '6', '7']);
      expect(server.connections.map((c) => c.lastEventId)).toEqual([undefined, '3', '6']);
      expect(server.connections.every((c) => c.auth === 'Bearer jwt-sse')).toBe(true);
      expect(server.connections[0].query).toBe('?types=session.updated');
    } finally {
      await server.close();
    }
  });

  it('starts after a given id, and stops on abort', async () => {
    const server = await sseServer(5, 10);
    try {
      const controller = new AbortController();
      const received: string[] = [];
      for await (const event of subscribe({
        baseUrl: server.url,
        lastEventId: '3',
        signal: controller.signal,
        reconnectDelayMs: 20,
      })) {
        received.push(event.id ?? '');
        if (event.id === '5') controller.abort();
      }
      expect(received).toEqual(['4', '5']);
      expect(server.connections[0].lastEventId).toBe('3');
    } finally {
      await server.close();
    }
  });

  it('throws the problem when reconnecting cannot help (410: since is older than retention)', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(410, { 'content-type': 'application/problem+json' });
      res.end(
        JSON.stringify({
          type: 'urn:x',
          title: 'Gone',
          status: 410,
          detail: 'too old',
          instance: '/',
          request_id: 'r',
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const iterator = subscribe({ baseUrl: `http://127.0.0.1:${port}`, lastEventId: '1' });
      const error = await iterator.next().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ status: 410, problem: { detail: 'too old' } });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
