import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as http2Connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { createApp } from '../../apps/api/src/app.factory';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig } from '../../apps/api/src/config/load-config';
import { RedisServer } from '../support/redis-server';
import { TEST_JWT_SECRET, tokenFor } from '../support/test-app';

/** TLS terminated by the API: TLS 1.3 only, HTTP/2 (ALPN h2) with HTTP/1.1 fallback. */
describe('TLS in the API (TLS_CERT_FILE, TLS_KEY_FILE)', () => {
  let redis: RedisServer;
  let app: NestFastifyApplication;
  let port: number;
  let cert: Buffer;
  let dir: string;

  beforeAll(async () => {
    redis = await RedisServer.start();
    dir = mkdtempSync(join(tmpdir(), 'masa-tls-'));
    // A self-signed certificate for 127.0.0.1 made for this run.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(join(dir, 'cert.pem'));
    const config = loadConfig({
      APP_ENV: 'test',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: 'tls',
      JWT_SECRET: TEST_JWT_SECRET,
      TLS_CERT_FILE: join(dir, 'cert.pem'),
      TLS_KEY_FILE: join(dir, 'key.pem'),
    });
    app = await createApp(config);
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
  });

  afterAll(async () => {
    await app.close();
    await redis.dispose();
  });

  function https1(path: string, options: { maxVersion?: 'TLSv1.2' | 'TLSv1.3' } = {}) {
    return new Promise<{ status: number; protocol: string; body: string }>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          path,
          ca: cert,
          maxVersion: options.maxVersion,
          agent: false,
          headers: { authorization: `Bearer ${tokenFor({ sub: 'o', roles: ['orchestrator'] })}` },
        },
        (res) => {
          const protocol = (res.socket as unknown as { getProtocol(): string }).getProtocol();
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, protocol, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('serves HTTPS with TLS 1.3 and a certificate the client can verify (HTTP/1.1)', async () => {
    const response = await https1('/api/v1/sessions?limit=1');
    expect(response.status).toBe(200);
    expect(response.protocol).toBe('TLSv1.3');
    expect(JSON.parse(response.body)).toMatchObject({ total_count: 0 });
  });

  it('refuses a client that offers at most TLS 1.2', async () => {
    await expect(https1('/api/v1/health/live', { maxVersion: 'TLSv1.2' })).rejects.toThrow();
    // The handshake itself fails: no TLS 1.2 session is ever established.
    const negotiated = await new Promise<string>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, ca: cert, maxVersion: 'TLSv1.2' });
      socket.on('secureConnect', () => resolve(`connected ${socket.getProtocol()}`));
      socket.on('error', (error) => resolve(`refused ${error.message}`));
    });
    expect(negotiated).toMatch(/^refused/);
  });

  it('speaks HTTP/2 (ALPN h2) to clients that offer it', async () => {
    const session = http2Connect(`https://127.0.0.1:${port}`, { ca: cert });
    try {
      const { status, alpn } = await new Promise<{ status: number; alpn: string }>(
        (resolve, reject) => {
          const stream = session.request({ ':path': '/api/v1/health/live' });
          let status = 0;
          stream.on('response', (headers) => (status = Number(headers[':status'])));
          stream.resume();
          stream.on('end', () => resolve({ status, alpn: String(session.alpnProtocol) }));
          stream.on('error', reject);
          stream.end();
        },
      );
      expect(status).toBe(200);
      expect(alpn).toBe('h2');
    } finally {
      session.close();
    }
  });

  it('stops start-up naming the variables when only one is set or the files are wrong', () => {
    const base = { APP_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, REDIS_URL: redis.url };
    expect(() => loadConfig({ ...base, TLS_CERT_FILE: join(dir, 'cert.pem') })).toThrow(
      /TLS_CERT_FILE and TLS_KEY_FILE/,
    );
    expect(() =>
      loadConfig({
        ...base,
        TLS_CERT_FILE: join(dir, 'missing.pem'),
        TLS_KEY_FILE: join(dir, 'key.pem'),
      }),
    ).toThrow(/TLS_CERT_FILE: cannot read/);
    writeFileSync(join(dir, 'garbage.pem'), 'not a key');
    expect(() =>
      loadConfig({
        ...base,
        TLS_CERT_FILE: join(dir, 'cert.pem'),
        TLS_KEY_FILE: join(dir, 'garbage.pem'),
      }),
    ).toThrow(/not a matching PEM/);
  });
});
