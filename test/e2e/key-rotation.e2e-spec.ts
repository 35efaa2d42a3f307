import 'reflect-metadata';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../apps/api/src/config/load-config';
import { RedisServer } from '../support/redis-server';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../support/test-app';

const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('base64');

/** Write with key A, rotate to B (keeping A), read both, re-encrypt, drop A, read again. */
describe('Encryption at rest and key rotation over HTTP', () => {
  let redis: RedisServer;
  let raw: Redis;
  let t: TestApp | undefined;
  const prefix = `rot${process.pid}`;

  const start = async (keys: string) => {
    await t?.close();
    t = await startTestApp(redis.url, { ENCRYPTION_KEYS: keys, REDIS_KEY_PREFIX: prefix });
    return t;
  };
  const admin = () => t!.as({ sub: 'admin-1', roles: ['admin'] });

  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.port, '127.0.0.1');
  });

  afterAll(async () => {
    await t?.close();
    raw.disconnect();
    await redis.dispose();
  });

  async function storedValues(): Promise<string[]> {
    const values: string[] = [];
    for (const key of await raw.keys(`${prefix}:{default}:*`)) {
      if ((await raw.type(key)) !== 'hash') continue;
      const hash = await raw.hgetall(key);
      if (key.includes(':session:')) values.push(hash.config, hash.metadata);
      if (key.includes(':memory:data:')) values.push(...Object.values(hash));
      if (key.includes(':cache:e:')) values.push(hash.data);
    }
    return values;
  }

  it('refuses a bad key at start-up, naming the key id and not the key', () => {
    expect(() =>
      loadConfig({
        APP_ENV: 'test',
        JWT_SECRET: TEST_JWT_SECRET,
        ENCRYPTION_KEYS: `good:${KEY_A},weak:c2hvcnQ=`,
      }),
    ).toThrow(/"weak"/);
  });

  it('rotates keys without downtime and re-encrypts stored values', async () => {
    let app = await start(`a:${KEY_A}`);
    const session = await app.http
      .post('/api/v1/sessions')
      .send({
        session_config: { secret: 'alpha-config' },
        metadata: { m: 'alpha-meta' },
        created_by: 'u',
      })
      .expect(201);
    const sessionId = session.body.session_id as string;
    await app.http
      .post('/api/v1/agents/agent-1/memory')
      .send({
        session_id: sessionId,
        memory_data: { note: 'alpha-memory', big: 'z'.repeat(3000) },
        memory_type: 'working',
        created_by: 'o',
      })
      .expect(201);
    await app.http
      .post('/api/v1/cache/llm:answer-1')
      .send({ data: { answer: 'alpha-cache' }, ttl_seconds: 3600 })
      .expect(201);
    const written = await storedValues();
    expect(written.length).toBe(5);
    for (const value of written) expect(value).toMatch(/^v1:(gzip\+)?aes256gcm:a:/);
    expect(written.join()).not.toContain('alpha');

    // Without key A, old values are a clear 500, never garbage.
    app = await start(`b:${KEY_B}`);
    const refused = await app.http.get(`/api/v1/sessions/${sessionId}`).expect(500);
    expect(refused.body.type).toBe('urn:masa:problem:internal-error');

    // Rotate: B writes, A still reads.
    app = await start(`b:${KEY_B},a:${KEY_A}`);
    expect(
      (await app.http.get(`/api/v1/sessions/${sessionId}`).expect(200)).body.session_config,
    ).toEqual({
      secret: 'alpha-config',
    });
    await app.http
      .patch(`/api/v1/agents/agent-1/memory/${sessionId}`)
      .set('Content-Type', 'application/merge-patch+json')
      .send(JSON.stringify({ memory_data: { added: 'beta-memory' } }))
      .expect(200);
    const mixed = await storedValues();
    expect(mixed.some((v) => v.includes(':a:'))).toBe(true);
    expect(mixed.some((v) => v.includes(':b:'))).toBe(true);
    expect(
      (await app.http.get(`/api/v1/agents/agent-1/memory/${sessionId}`).expect(200)).body
        .memory_data,
    ).toMatchObject({
      note: 'alpha-memory',
      added: 'beta-memory',
    });

    await app.http.post('/api/v1/admin/reencrypt').send({}).expect(403);
    let cursor: string | null | undefined;
    let reencrypted = 0;
    do {
      const step = await admin()
        .post('/api/v1/admin/reencrypt')
        .send(cursor ? { cursor, limit: 1 } : { limit: 1 })
        .expect(200);
      reencrypted += step.body.reencrypted as number;
      cursor = step.body.next_cursor as string | null;
    } while (cursor);
    expect(reencrypted).toBe(5);
    for (const value of await storedValues()) expect(value).toMatch(/^v1:(gzip\+)?aes256gcm:b:/);

    // Drop A: everything still reads.
    app = await start(`b:${KEY_B}`);
    expect((await app.http.get(`/api/v1/sessions/${sessionId}`).expect(200)).body.metadata).toEqual(
      { m: 'alpha-meta' },
    );
    const memory = await app.http.get(`/api/v1/agents/agent-1/memory/${sessionId}`).expect(200);
    expect(memory.body.memory_data).toEqual({
      note: 'alpha-memory',
      big: 'z'.repeat(3000),
      added: 'beta-memory',
    });
    const cached = await app.http.get('/api/v1/cache/llm:answer-1').expect(200);
    expect(cached.body.data).toEqual({ answer: 'alpha-cache' });
    await admin().post('/api/v1/admin/reencrypt').send({ cursor: 'garbage' }).expect(400);
  });
});
