import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { RedisServer } from '../support/redis-server';
import { startTestApp, tokenFor, type TestApp } from '../support/test-app';

const PROBLEM = /^application\/problem\+json/;

/** Writes raw bytes and returns everything the server answers until it closes the connection. */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer in 5 s')));
    socket.write(text);
  });
}

function parseRaw(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const [head, ...rest] = raw.split('\r\n\r\n');
  const [statusLine, ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => {
      const at = line.indexOf(':');
      return [line.slice(0, at).toLowerCase(), line.slice(at + 1).trim()];
    }),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

/**
 * Requests that Fastify refuses before any hook, guard or Nest filter runs (found by the fuzzer,
 * issue #14): they get problem+json with a request id like every other error, and a refusal that
 * closes the connection says so, so that a keep-alive client does not lose its next request.
 */
describe('Malformed requests', () => {
  let redis: RedisServer;
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    redis = await RedisServer.start();
    t = await startTestApp(redis.url);
    await t.app.listen(0, '127.0.0.1');
    const address = t.app.getHttpServer().address();
    port = typeof address === 'object' && address ? address.port : 0;
  });

  afterAll(async () => {
    await t.close();
    await redis.dispose();
  });

  it('answers a path with a malformed percent-escape with a 400 problem naming the cause', async () => {
    for (const path of ['/api/v1/sessions/%zz', '/api/v1/cache/%ED%A0%80']) {
      const response = await t.http.get(path).expect(400);
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body).toMatchObject({
        status: 400,
        detail: expect.stringContaining('percent-escape'),
        request_id: response.headers['x-request-id'],
      });
    }
  });

  it('gives the 404 for a method without a route on an undecodable path its X-Request-Id', async () => {
    // Fastify's not-found route for such a path reaches the filter without running the hooks.
    const response = await t.http.options('/api/v1/admin/api-keys/%').expect(404);
    expect(response.headers['content-type']).toMatch(PROBLEM);
    expect(response.headers['x-request-id']).toEqual(expect.any(String));
    expect(response.body.request_id).toBe(response.headers['x-request-id']);
  });

  it('answers a path parameter over 256 characters with a 414 problem', async () => {
    const response = await t.http.get(`/api/v1/sessions/${'a'.repeat(300)}`).expect(414);
    expect(response.headers['content-type']).toMatch(PROBLEM);
    expect(response.body).toMatchObject({
      status: 414,
      detail: expect.stringContaining('256 characters'),
      request_id: response.headers['x-request-id'],
    });
  });

  it('answers headers over the size limit with a 431 problem, a request id and Connection: close', async () => {
    const raw = await rawExchange(
      port,
      `GET /api/v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(40_000)}\r\n\r\n`,
    );
    const answer = parseRaw(raw);
    expect(answer.status).toBe(431);
    expect(answer.headers['content-type']).toMatch(PROBLEM);
    expect(answer.headers.connection).toBe('close');
    const problem = JSON.parse(answer.body) as { status: number; request_id: string };
    expect(problem.status).toBe(431);
    expect(problem.request_id).toBe(answer.headers['x-request-id']);
  });

  it('answers a request the HTTP parser refuses with a 400 problem', async () => {
    const answer = parseRaw(
      await rawExchange(port, 'GET /api/v1/health HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n'),
    );
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toMatch(PROBLEM);
    expect(answer.headers.connection).toBe('close');
  });

  it('does not make a keep-alive client lose the request it sends after a refused one', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (authorization: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, path: '/api/v1/sessions', agent, headers: { authorization } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end();
      });
    const token = `Bearer ${tokenFor({ sub: 'o', roles: ['orchestrator'] })}`;
    try {
      for (let i = 0; i < 5; i++) {
        expect(await send(`Bearer ${'a'.repeat(40_000)}`)).toBe(431);
        expect(await send(token)).toBe(200);
      }
    } finally {
      agent.destroy();
    }
  });
});
