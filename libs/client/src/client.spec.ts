import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from './client';
import { ApiError } from './errors';
import { retryAfterMs, retryDelayMs } from './retry';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

/** A stub API: answers each request with the next scripted response, records what it saw. */
async function stub(
  answers: ((seen: Seen) => { status: number; headers?: Record<string, string>; body?: unknown })[],
): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const entry = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        at: Date.now(),
      };
      seen.push(entry);
      const answer = (answers[seen.length - 1] ?? answers[answers.length - 1])(entry);
      const json = answer.body === undefined ? '' : JSON.stringify(answer.body);
      res.writeHead(answer.status, {
        'content-type': answer.status >= 400 ? 'application/problem+json' : 'application/json',
        ...answer.headers,
      });
      res.end(json);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const problem = (status: number, title: string) => ({
  type: `urn:masa:problem:${title.toLowerCase().replace(/ /g, '-')}`,
  title,
  status,
  detail: `${title} (stub)`,
  instance: '/api/v1/sessions',
  request_id: 'req-stub-1',
});

const created = {
  status: 201,
  body: { session_id: '3f1c2a9e-8b7d-4c6e-9f01-23456789abcd', version: 1 },
};

describe('typed client: retries, Idempotency-Key, errors', () => {
  it('retries a 503 after Retry-After, with the same Idempotency-Key on every attempt', async () => {
    const api = await stub([
      () => ({
        status: 503,
        headers: { 'retry-after': '1' },
        body: problem(503, 'Service Unavailable'),
      }),
      () => ({
        status: 503,
        headers: { 'retry-after': '0' },
        body: problem(503, 'Service Unavailable'),
      }),
      () => created,
    ]);
    try {
      const client = createClient({ baseUrl: api.url, token: 'jwt-1', retries: 3 });
      const { data } = await client.POST('/api/v1/sessions', {
        body: { session_config: { model: 'x' } },
      });
      expect(data).toMatchObject({ version: 1 });
      expect(api.seen).toHaveLength(3);
      const keys = api.seen.map((s) => s.headers['idempotency-key']);
      expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
      expect(new Set(keys).size).toBe(1);
      expect(api.seen.every((s) => s.body === api.seen[0].body)).toBe(true);
      expect(api.seen[0].headers.authorization).toBe('Bearer jwt-1');
      // Retry-After: 1 was honoured (at least a second between the first two attempts).
      expect(api.seen[1].at - api.seen[0].at).toBeGreaterThanOrEqual(990);
    } finally {
      await api.close();
    }
  });

  it('retries a 429, gives up after the configured retries, and throws the problem', async () => {
    const api = await stub([
      () => ({
        status: 429,
        headers: { 'retry-after': '0' },
        body: problem(429, 'Too Many Requests'),
      }),
    ]);
    try {
      const client = createClient({ baseUrl: api.url, apiKey: 'masa_t.k.s', retries: 2 });
      const error = await client.GET('/api/v1/sessions').catch((e: unknown) => e);
      expect(api.seen).toHaveLength(3);
      expect(api.seen[0].headers['x-api-key']).toBe('masa_t.k.s');
      expect(api.seen[0].headers.authorization).toBeUndefined();
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({
        status: 429,
        requestId: 'req-stub-1',
        problem: { title: 'Too Many Requests', status: 429 },
      });
    } finally {
      await api.close();
    }
  });

  it('does not re-send a POST without an Idempotency-Key on 503 (its outcome is unknown)', async () => {
    const api = await stub([() => ({ status: 503, body: problem(503, 'Service Unavailable') })]);
    try {
      const client = createClient({ baseUrl: api.url, token: 't', retries: 3 });
      await expect(
        client.POST('/api/v1/sessions/batch', { body: { sessions: [{ session_config: {} }] } }),
      ).rejects.toMatchObject({ status: 503 });
      expect(api.seen).toHaveLength(1);
      expect(api.seen[0].headers['idempotency-key']).toBeUndefined();
    } finally {
      await api.close();
    }
  });

  it('does not wait for a Retry-After beyond its bound', async () => {
    const api = await stub([
      () => ({
        status: 429,
        headers: { 'retry-after': '3600' },
        body: problem(429, 'Too Many Requests'),
      }),
    ]);
    try {
      const client = createClient({
        baseUrl: api.url,
        token: 't',
        retries: { retries: 3, maxDelayMs: 2000 },
      });
      const started = Date.now();
      await expect(client.GET('/api/v1/sessions')).rejects.toMatchObject({ status: 429 });
      expect(api.seen).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      await api.close();
    }
  });

  it('keeps a caller-given Idempotency-Key and exposes validation problems by field', async () => {
    const api = await stub([
      () => ({
        status: 400,
        body: { ...problem(400, 'Bad Request'), errors: [{ field: 'ttl', message: 'too big' }] },
      }),
    ]);
    try {
      const client = createClient({ baseUrl: api.url, token: () => 'fresh-token' });
      const error = (await client
        .POST('/api/v1/sessions', {
          body: { session_config: {} },
          params: { header: { 'Idempotency-Key': 'mine-1' } },
        })
        .catch((e: unknown) => e)) as ApiError;
      expect(api.seen[0].headers['idempotency-key']).toBe('mine-1');
      expect(api.seen[0].headers.authorization).toBe('Bearer fresh-token');
      expect(error.fields).toEqual(['ttl']);
      expect(error.message).toContain('400 Bad Request');
    } finally {
      await api.close();
    }
  });

  it('refuses a token and an API key together, and a retry count out of range', () => {
    expect(() =>
      createClient({ baseUrl: 'http://x', token: 't', apiKey: 'k' } as unknown as Parameters<
        typeof createClient
      >[0]),
    ).toThrow('either token or apiKey');
    expect(() => createClient({ baseUrl: 'http://x', token: 't', retries: -1 })).toThrow(
      RangeError,
    );
  });

  it('reads Retry-After as seconds or a date, and jitters within bounds', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
    const policy = { retries: 2, baseDelayMs: 100, maxDelayMs: 5000 };
    expect(retryDelayMs(1, 1000, policy, () => 0)).toBe(1000);
    expect(retryDelayMs(1, 1000, policy, () => 1)).toBe(1200);
    expect(retryDelayMs(2, undefined, policy, () => 1)).toBe(200);
    expect(retryDelayMs(3, undefined, policy, () => 1)).toBeUndefined();
    expect(retryDelayMs(1, 6000, policy, () => 0)).toBeUndefined();
  });
});
