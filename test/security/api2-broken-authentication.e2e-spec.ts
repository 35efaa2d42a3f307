import { createServer, type Server } from 'node:http';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { sign } from 'jsonwebtoken';
import request from 'supertest';
import { RedisServer } from '../support/redis-server';
import { startTestApp, TEST_JWT_SECRET, tokenFor, type TestApp } from '../support/test-app';

/** OWASP API2:2023 Broken Authentication — every bad token is a 401 with the same body. */
const ORCH = { sub: 'orch-1', roles: ['orchestrator'] };
const URL = '/api/v1/sessions';
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

function expectUniform401(response: request.Response): void {
  expect(response.status).toBe(401);
  expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(response.body).toEqual({
    type: 'urn:masa:problem:unauthorized',
    title: 'Unauthorized',
    status: 401,
    detail: 'A valid bearer token is required.',
    instance: URL,
    request_id: expect.any(String),
  });
}

describe('API2 broken authentication', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    await redis.dispose();
  });

  describe('with an HS256 secret, issuer and audience configured', () => {
    let t: TestApp;
    const claims = { iss: 'https://issuer.test', aud: 'masa' };
    const good = (extra: object = {}, options = {}) =>
      tokenFor({ ...ORCH, ...claims, ...extra }, options);
    const get = (token: string) => t.anonymous.get(URL).set('Authorization', `Bearer ${token}`);

    beforeAll(async () => {
      t = await startTestApp(redis.url, {
        JWT_ISSUER: 'https://issuer.test',
        JWT_AUDIENCE: 'masa',
      });
    });

    afterAll(async () => {
      await t.close();
    });

    it('accepts a well-formed token (control case)', async () => {
      await get(good()).expect(200);
    });

    it('refuses a request without a token', async () => {
      expectUniform401(await t.anonymous.get(URL));
    });

    it('refuses a non-Bearer scheme', async () => {
      expectUniform401(await t.anonymous.get(URL).set('Authorization', `Basic ${good()}`));
    });

    it('refuses a malformed token', async () => {
      expectUniform401(await get('not.a.jwt'));
    });

    it('refuses alg "none"', async () => {
      const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...ORCH, ...claims, exp: Math.floor(Date.now() / 1000) + 60 })}.`;
      expectUniform401(await get(unsigned));
    });

    it('refuses a token signed with another secret', async () => {
      expectUniform401(
        await get(
          tokenFor({ ...ORCH, ...claims }, {}, 'another-secret-another-secret-another-secret'),
        ),
      );
    });

    it('refuses a token with a tampered payload', async () => {
      const [header, , signature] = good().split('.');
      const forged = `${header}.${b64({ sub: 'orch-1', roles: ['admin'], ...claims, exp: 9999999999 })}.${signature}`;
      expectUniform401(await get(forged));
    });

    it('refuses an expired token', async () => {
      const expired = sign(
        { ...ORCH, ...claims, exp: Math.floor(Date.now() / 1000) - 10 },
        TEST_JWT_SECRET,
        {
          algorithm: 'HS256',
        },
      );
      expectUniform401(await get(expired));
    });

    it('refuses a token without exp', async () => {
      const noExp = sign({ ...ORCH, ...claims }, TEST_JWT_SECRET, { algorithm: 'HS256' });
      expectUniform401(await get(noExp));
    });

    it('refuses a token that is not valid yet (future nbf)', async () => {
      expectUniform401(await get(good({}, { notBefore: '10m' })));
    });

    it('refuses a wrong issuer', async () => {
      expectUniform401(await get(good({ iss: 'https://evil.test' })));
    });

    it('refuses a wrong audience', async () => {
      expectUniform401(await get(good({ aud: 'someone-else' })));
    });

    it('refuses a token passed in the query string', async () => {
      expectUniform401(
        await t.anonymous.get(`${URL}?access_token=${good()}`).set('Accept', 'application/json'),
      );
    });

    it('refuses unknown roles, an empty role list and a malformed tenant', async () => {
      expectUniform401(await get(good({ roles: ['superuser'] })));
      expectUniform401(await get(good({ roles: [] })));
      expectUniform401(await get(good({ tenant: '{other}' })));
    });

    it('refuses a token without sub', async () => {
      const noSub = sign({ roles: ['orchestrator'], ...claims }, TEST_JWT_SECRET, {
        algorithm: 'HS256',
        expiresIn: '1h',
      });
      expectUniform401(await get(noSub));
    });
  });

  describe('with an RS256 public key configured', () => {
    let t: TestApp;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

    beforeAll(async () => {
      t = await startTestApp(redis.url, { JWT_SECRET: '', JWT_PUBLIC_KEY: publicPem });
    });

    afterAll(async () => {
      await t.close();
    });

    it('accepts an RS256 token signed with the matching private key', async () => {
      const token = sign(ORCH, privateKey, { algorithm: 'RS256', expiresIn: '5m' });
      await t.anonymous.get(URL).set('Authorization', `Bearer ${token}`).expect(200);
    });

    it('refuses HS256 signed with the public key (algorithm confusion)', async () => {
      const header = b64({ alg: 'HS256', typ: 'JWT' });
      const payload = b64({ ...ORCH, exp: Math.floor(Date.now() / 1000) + 300 });
      const { createHmac } = await import('node:crypto');
      const signature = createHmac('sha256', publicPem)
        .update(`${header}.${payload}`)
        .digest('base64url');
      expectUniform401(
        await t.anonymous.get(URL).set('Authorization', `Bearer ${header}.${payload}.${signature}`),
      );
    });

    it('refuses an RS256 token signed by another key pair', async () => {
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const token = sign(ORCH, other, { algorithm: 'RS256', expiresIn: '5m' });
      expectUniform401(await t.anonymous.get(URL).set('Authorization', `Bearer ${token}`));
    });
  });

  describe('with a JWKS URI configured', () => {
    let t: TestApp;
    let jwks: Server;
    let fetches = 0;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signWith = (key: KeyObject, header: Record<string, string>) =>
      sign(ORCH, key, { algorithm: 'ES256', expiresIn: '5m', header: { alg: 'ES256', ...header } });

    beforeAll(async () => {
      jwks = createServer((_, res) => {
        fetches++;
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            keys: [
              { ...publicKey.export({ format: 'jwk' }), kid: 'key-1', use: 'sig', alg: 'ES256' },
            ],
          }),
        );
      });
      await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
      const { port } = jwks.address() as AddressInfo;
      t = await startTestApp(redis.url, {
        JWT_SECRET: '',
        JWT_JWKS_URI: `http://127.0.0.1:${port}/jwks.json`,
      });
    });

    afterAll(async () => {
      await t.close();
      jwks.close();
    });

    it('accepts a token whose kid is in the key set, fetching the set once', async () => {
      const token = signWith(privateKey, { kid: 'key-1' });
      await t.anonymous.get(URL).set('Authorization', `Bearer ${token}`).expect(200);
      await t.anonymous.get(URL).set('Authorization', `Bearer ${token}`).expect(200);
      expect(fetches).toBe(1);
    });

    it('refuses an unknown kid', async () => {
      expectUniform401(
        await t.anonymous
          .get(URL)
          .set('Authorization', `Bearer ${signWith(privateKey, { kid: 'key-9' })}`),
      );
    });

    it('refuses a token without kid', async () => {
      expectUniform401(
        await t.anonymous.get(URL).set('Authorization', `Bearer ${signWith(privateKey, {})}`),
      );
    });

    it('ignores a jku header pointing elsewhere', async () => {
      const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      const token = signWith(attacker, { kid: 'key-1', jku: 'http://127.0.0.1:1/evil.json' });
      expectUniform401(await t.anonymous.get(URL).set('Authorization', `Bearer ${token}`));
    });
  });

  describe('API keys (masa_…)', () => {
    let t: TestApp;
    let key: string;
    const withKey = (value: string) => t.anonymous.get(URL).set('Authorization', `Bearer ${value}`);

    beforeAll(async () => {
      t = await startTestApp(redis.url, { REDIS_KEY_PREFIX: 'api2keys' });
      const admin = t.as({ sub: 'admin-1', roles: ['admin'] });
      key = (
        await admin
          .post('/api/v1/admin/api-keys')
          .send({ name: 'svc', roles: ['analyst'] })
          .expect(201)
      ).body.api_key as string;
    });

    afterAll(async () => {
      await t.close();
    });

    it('accepts the issued key as Bearer and as X-API-Key (control case)', async () => {
      await withKey(key).expect(200);
      await t.anonymous.get(URL).set('X-API-Key', key).expect(200);
    });

    it('refuses a key with one character of the secret changed', async () => {
      const last = key.at(-1) === 'A' ? 'B' : 'A';
      expectUniform401(await withKey(key.slice(0, -1) + last));
      expectUniform401(await t.anonymous.get(URL).set('X-API-Key', key.slice(0, -1) + last));
    });

    it('refuses a key moved to another tenant or another id', async () => {
      expectUniform401(await withKey(key.replace('masa_default.', 'masa_globex.')));
      expectUniform401(await withKey(key.replace(/\.[0-9a-f]{16}\./, '.0123456789abcdef.')));
    });

    it('refuses malformed keys and the bare prefix', async () => {
      for (const bad of ['masa_', 'masa_default', `${key}x`, key.toUpperCase()]) {
        expectUniform401(await withKey(bad));
      }
    });

    it('refuses two credentials at once (Bearer token and X-API-Key)', async () => {
      const jwt = tokenFor(ORCH);
      expectUniform401(
        await t.anonymous.get(URL).set('Authorization', `Bearer ${jwt}`).set('X-API-Key', key),
      );
    });

    it('refuses a revoked key at once', async () => {
      const admin = t.as({ sub: 'admin-1', roles: ['admin'] });
      const issued = (
        await admin
          .post('/api/v1/admin/api-keys')
          .send({ name: 'tmp', scopes: ['read'] })
          .expect(201)
      ).body as { id: string; api_key: string };
      await withKey(issued.api_key).expect(200);
      await admin.delete(`/api/v1/admin/api-keys/${issued.id}`).expect(200);
      expectUniform401(await withKey(issued.api_key));
    });

    it('refuses an expired key', async () => {
      const admin = t.as({ sub: 'admin-1', roles: ['admin'] });
      const issued = (
        await admin
          .post('/api/v1/admin/api-keys')
          .send({
            name: 'brief',
            roles: ['analyst'],
            expires_at: new Date(Date.now() + 1500).toISOString(),
          })
          .expect(201)
      ).body as { api_key: string };
      await withKey(issued.api_key).expect(200);
      await new Promise((resolve) => setTimeout(resolve, 1600));
      expectUniform401(await withKey(issued.api_key));
    });
  });
});
