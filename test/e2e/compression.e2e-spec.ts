import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import request from 'supertest';
import { RedisServer } from '../support/redis-server';
import { startTestApp, tokenFor, type TestApp } from '../support/test-app';

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

describe('Response compression (br/gzip above HTTP_COMPRESSION_MIN_BYTES)', () => {
  let redis: RedisServer;
  let t: TestApp;
  let off: TestApp;
  const token = tokenFor({ sub: 'orchestrator-1', roles: ['orchestrator'], tenant: 'default' });

  /** The bytes as sent: supertest and fetch would decompress them on the way. */
  async function get(app: TestApp, path: string, encoding?: string): Promise<RawResponse> {
    const server = app.app.getHttpServer();
    if (!server.listening) await app.app.listen(0, '127.0.0.1');
    const { port } = server.address() as AddressInfo;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (encoding !== undefined) headers['accept-encoding'] = encoding;
      const req = httpRequest({ host: '127.0.0.1', port, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  }

  beforeAll(async () => {
    redis = await RedisServer.start();
    t = await startTestApp(redis.url);
    off = await startTestApp(redis.url, { HTTP_COMPRESSION_MIN_BYTES: '0' });
    const sessions = Array.from({ length: 100 }, (_, i) => ({
      session_config: { agents: ['planner', 'researcher', 'critic'], step: i, model: 'large' },
      metadata: { source: 'compression-test', index: i },
      created_by: 'user-1',
      status: 'running',
    }));
    await t.http.post('/api/v1/sessions/batch').send({ sessions }).expect(201);
  });

  afterAll(async () => {
    await t.close();
    await off.close();
    await redis.dispose();
  });

  const LIST = '/api/v1/sessions?created_by=user-1&limit=100';

  it('sends a 100-item list br or gzip as the client asks, several times smaller, same JSON', async () => {
    const plain = await get(t, LIST);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    const json = JSON.parse(plain.body.toString('utf8')) as { sessions: unknown[] };
    expect(json.sessions).toHaveLength(100);

    const br = await get(t, LIST, 'br, gzip');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    const gzip = await get(t, LIST, 'gzip');
    expect(gzip.headers['content-encoding']).toBe('gzip');

    // Same sessions, whatever the encoding (request ids and timestamps aside, bodies are equal).
    expect(JSON.parse(brotliDecompressSync(br.body).toString('utf8'))).toEqual(json);
    expect(JSON.parse(gunzipSync(gzip.body).toString('utf8'))).toEqual(json);
    expect(br.body.length).toBeLessThan(plain.body.length / 5);
    expect(gzip.body.length).toBeLessThan(plain.body.length / 4);
  });

  it('leaves small responses, and every response when turned off, uncompressed', async () => {
    const small = await get(t, '/api/v1/sessions?created_by=user-1&limit=1', 'br, gzip');
    expect(small.status).toBe(200);
    expect(small.body.length).toBeLessThan(1024);
    expect(small.headers['content-encoding']).toBeUndefined();

    const disabled = await get(off, LIST, 'br, gzip');
    expect(disabled.status).toBe(200);
    expect(disabled.headers['content-encoding']).toBeUndefined();
    expect(
      (JSON.parse(disabled.body.toString('utf8')) as { sessions: unknown[] }).sessions,
    ).toHaveLength(100);
  });

  it('keeps X-Request-Id on compressed answers', async () => {
    const listed = await get(t, LIST, 'gzip');
    expect(listed.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('refuses a compressed request body with 415 problem+json, whatever it holds', async () => {
    const token = tokenFor({ sub: 'orchestrator-1', roles: ['orchestrator'], tenant: 'default' });
    for (const encoding of ['gzip', 'br']) {
      const refused = await request(t.app.getHttpServer())
        .post('/api/v1/sessions')
        .set('Authorization', `Bearer ${token}`)
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', encoding)
        .send(JSON.stringify({ session_config: {}, created_by: 'user-1' }))
        .expect(415);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(refused.body.detail).toContain(encoding);
    }
  });
});
