import { RedisServer } from '../support/redis-server';
import { startTestApp, tokenFor, type TestApp } from '../support/test-app';

/** Issue #13: every refusal tells a newcomer what to change. */
describe('Errors that say what to fix', () => {
  let redis: RedisServer;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    t = await startTestApp(redis.url, { BODY_LIMIT: '65536' });
  });

  afterAll(async () => {
    await t.close();
    await redis.dispose();
  });

  const session = JSON.stringify({ session_config: { agents: ['planner'] }, created_by: 'u-1' });

  it('answers a form-encoded body (curl -d without Content-Type) with 415 naming the accepted types', async () => {
    const response = await t.http
      .post('/api/v1/sessions')
      .set('content-type', 'application/x-www-form-urlencoded')
      .send(session)
      .expect(415);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.body.detail).toBe(
      'Send the body as application/json (header Content-Type: application/json); ' +
        'PATCH of agent memory takes application/merge-patch+json.',
    );
    const text = await t.http
      .post('/api/v1/sessions')
      .set('content-type', 'text/plain')
      .send(session)
      .expect(415);
    expect(text.body.detail).toMatch(/application\/json/);
  });

  it('still reads JSON sent with a charset parameter', async () => {
    await t.http
      .post('/api/v1/sessions')
      .set('content-type', 'application/json; charset=utf-8')
      .send(session)
      .expect(201);
  });

  it('says which key is refused and why when a body has __proto__ or constructor.prototype', async () => {
    const proto = await t.http
      .post('/api/v1/sessions')
      .set('content-type', 'application/json')
      .send('{"session_config":{"__proto__":{"admin":true}},"created_by":"u-1"}')
      .expect(400);
    expect(proto.body.errors).toEqual([
      {
        field: 'body.session_config.__proto__',
        message: expect.stringMatching(/^is refused: keys named __proto__ .*prototype pollution/),
      },
    ]);
    expect(proto.body.detail).not.toMatch(/not valid JSON/);
    const ctor = await t.http
      .post('/api/v1/sessions')
      .set('content-type', 'application/json')
      .send('{"session_config":{"constructor":{"prototype":{"x":1}}},"created_by":"u-1"}')
      .expect(400);
    expect(ctor.body.errors[0].field).toBe('body.session_config.constructor.prototype');
    // A key merely named "constructor" is fine.
    await t.http
      .post('/api/v1/sessions')
      .send({ session_config: { constructor: 'lego' }, created_by: 'u-1' })
      .expect(201);
  });

  it('says where JSON is broken', async () => {
    const broken = await t.http
      .post('/api/v1/sessions')
      .set('content-type', 'application/json')
      .send('{"session_config":')
      .expect(400);
    expect(broken.body.errors[0]).toEqual({
      field: 'body',
      message: expect.stringMatching(/^is not valid JSON: /),
    });
  });

  it('answers ?limit=abc with one message for limit, saying what it must be', async () => {
    const response = await t.http.get('/api/v1/sessions?limit=abc').expect(400);
    expect(response.body.errors).toEqual([
      { field: 'limit', message: 'limit must be an integer between 1 and 100' },
    ]);
    const memory = await t.http.get('/api/v1/agents/a/memory?limit=0&offset=x').expect(400);
    expect(memory.body.errors).toEqual([
      { field: 'limit', message: 'limit must be an integer between 1 and 100' },
      { field: 'offset', message: 'offset must be an integer between 0 and 1000000000' },
    ]);
  });

  it('says "is required" for a missing field, not a format rule', async () => {
    const response = await t.http.post('/api/v1/sessions').send({}).expect(400);
    expect(response.body.errors).toEqual([
      { field: 'session_config', message: 'session_config is required' },
    ]);
    const memory = await t.http.post('/api/v1/agents/a/memory').send({}).expect(400);
    expect(memory.body.errors).toEqual(
      expect.arrayContaining([
        { field: 'session_id', message: 'session_id is required' },
        { field: 'memory_data', message: 'memory_data is required' },
      ]),
    );
  });

  it('names the body limit in bytes and the setting that raises it on 413', async () => {
    const big = await t.http
      .post('/api/v1/sessions')
      .send({ session_config: { blob: 'x'.repeat(70_000) }, created_by: 'u-1' })
      .expect(413);
    expect(big.body.detail).toBe(
      'The request body is larger than 65536 bytes, the limit of this route; send less, or raise BODY_LIMIT.',
    );
    const limit = t.config.cache.maxValueBytes + 64 * 1024;
    const cache = await t.http
      .put('/api/v1/cache/huge')
      .send({ data: 'x'.repeat(limit + 10) })
      .expect(413);
    expect(cache.body.detail).toBe(
      `The request body is larger than ${limit} bytes, the limit of this route; send less, or raise CACHE_MAX_VALUE_BYTES.`,
    );
  });

  describe('401 with RFC 6750 WWW-Authenticate', () => {
    const cases: [string, () => Record<string, string>, string][] = [
      [
        'no token',
        () => ({}),
        'Bearer realm="api", error_description="send Authorization: Bearer <token>"',
      ],
      [
        'an expired token',
        () => ({
          authorization: `Bearer ${tokenFor({ sub: 'o', roles: ['orchestrator'] }, { expiresIn: -10 })}`,
        }),
        'Bearer realm="api", error="invalid_token", error_description="the token has expired"',
      ],
      [
        'a token not valid yet',
        () => ({
          authorization: `Bearer ${tokenFor({ sub: 'o', roles: ['orchestrator'] }, { notBefore: 3600 })}`,
        }),
        'Bearer realm="api", error="invalid_token", error_description="the token is not valid yet (nbf)"',
      ],
      [
        'a bad signature',
        () => ({
          authorization: `Bearer ${tokenFor({ sub: 'o', roles: ['orchestrator'] }, {}, 'another-secret-of-enough-length-0123456789')}`,
        }),
        'Bearer realm="api", error="invalid_token", error_description="the signature does not verify"',
      ],
      [
        'an unknown role',
        () => ({ authorization: `Bearer ${tokenFor({ sub: 'o', roles: ['superuser'] })}` }),
        'Bearer realm="api", error="invalid_token", error_description="claim roles must be a non-empty list of known roles"',
      ],
      [
        'an invalid tenant',
        () => ({
          authorization: `Bearer ${tokenFor({ sub: 'o', roles: ['orchestrator'], tenant: 'ACME' })}`,
        }),
        'Bearer realm="api", error="invalid_token", error_description="claim tenant is malformed"',
      ],
    ];

    it.each(cases)(
      'explains %s in the header, with the same body as every 401',
      async (_name, headers, expected) => {
        const response = await t.anonymous.get('/api/v1/sessions').set(headers()).expect(401);
        expect(response.headers['www-authenticate']).toBe(expected);
        expect(response.body.detail).toBe('A valid bearer token is required.');
      },
    );

    it('asks for the header when the token came in the query string', async () => {
      const token = tokenFor({ sub: 'o', roles: ['orchestrator'] });
      const response = await t.anonymous.get(`/api/v1/sessions?access_token=${token}`).expect(401);
      expect(response.headers['www-authenticate']).toBe(
        'Bearer realm="api", error="invalid_request", error_description="send the token in the Authorization header, never in the query string"',
      );
    });
  });
});
