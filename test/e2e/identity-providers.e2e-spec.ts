import request from 'supertest';
import { JwksServer } from '../support/jwks-server';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Tokens shaped like those of real identity providers (RS256, keys from a JWKS endpoint), with the
 * claim paths configured as an operator would for each.
 */
describe('Identity-provider tokens (claim mapping, scopes)', () => {
  let redis: RedisServer;
  let idp: JwksServer;

  beforeAll(async () => {
    redis = await RedisServer.start();
    idp = await JwksServer.start();
  });

  afterAll(async () => {
    await idp.close();
    await redis.dispose();
  });

  async function appWith(env: Record<string, string>): Promise<TestApp> {
    // JWT_SECRET '' = unset: the JWKS endpoint is the only key source.
    return startTestApp(redis.url, { JWT_SECRET: '', JWT_JWKS_URI: idp.url, ...env });
  }

  const bearer = (t: TestApp, token: string) =>
    request(t.app.getHttpServer()).post('/api/v1/sessions').set('Authorization', `Bearer ${token}`);
  const read = (t: TestApp, token: string) =>
    request(t.app.getHttpServer())
      .get('/api/v1/sessions?limit=5')
      .set('Authorization', `Bearer ${token}`);
  const SESSION = { session_config: { agents: ['planner'] }, created_by: 'user-42' };

  describe('Keycloak: realm_access.roles, space-separated scope', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appWith({
        REDIS_KEY_PREFIX: 'kc',
        JWT_ROLES_CLAIM: 'realm_access.roles',
        JWT_TENANT_CLAIM: 'tenant',
        JWT_SCOPES_CLAIM: 'scope',
        JWT_ISSUER: 'http://keycloak.local/realms/acme',
      });
    });
    afterAll(() => t.close());

    const keycloak = (scope: string, roles = ['orchestrator', 'offline_access']) =>
      idp.token({
        iss: 'http://keycloak.local/realms/acme',
        sub: '9a4b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d',
        typ: 'Bearer',
        azp: 'masa-client',
        realm_access: { roles: [...roles, 'default-roles-acme', 'uma_authorization'] },
        resource_access: { account: { roles: ['manage-account'] } },
        scope,
        tenant: 'acme',
        preferred_username: 'orchestrator-bot',
      });

    it('creates a session with a write scope and reads it back in the token tenant', async () => {
      const token = keycloak('openid profile email write');
      const created = await bearer(t, token).send(SESSION).expect(201);
      const listed = await read(t, token).expect(200);
      expect(listed.body.sessions.map((s: { session_id: string }) => s.session_id)).toContain(
        created.body.session_id,
      );
      // Another tenant's token does not see it.
      const other = idp.token({
        iss: 'http://keycloak.local/realms/acme',
        sub: 'x',
        realm_access: { roles: ['orchestrator'] },
        scope: 'read',
        tenant: 'globex',
      });
      expect((await read(t, other).expect(200)).body.total_count).toBe(0);
    });

    it('needs the scope as well as the role: read scope may read but not write', async () => {
      const token = keycloak('openid profile read');
      await read(t, token).expect(200);
      const refused = await bearer(t, token).send(SESSION).expect(403);
      expect(refused.body.detail).toContain('scope');
    });

    it('refuses a token whose roles claim has no role this API knows', async () => {
      await read(t, keycloak('read', ['offline_access'])).expect(401);
    });

    it('refuses a token from another issuer', async () => {
      const foreign = idp.token({
        iss: 'http://evil.local',
        sub: 'x',
        realm_access: { roles: ['admin'] },
        scope: 'admin',
        tenant: 'acme',
      });
      await read(t, foreign).expect(401);
    });
  });

  describe('Entra ID: roles, tid tenant, oid subject, scp', () => {
    let t: TestApp;
    const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
    beforeAll(async () => {
      t = await appWith({
        REDIS_KEY_PREFIX: 'entra',
        JWT_SUBJECT_CLAIM: 'oid',
        JWT_TENANT_CLAIM: 'tid',
        JWT_SCOPES_CLAIM: 'scp',
        JWT_AUDIENCE: 'api://masa',
      });
    });
    afterAll(() => t.close());

    const entra = (scp: string | string[], roles = ['orchestrator']) =>
      idp.token({
        aud: 'api://masa',
        iss: `https://login.microsoftonline.com/${TID}/v2.0`,
        sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
        oid: '00000000-0000-0000-66f3-3332eca7ea81',
        tid: TID,
        roles,
        scp,
        ver: '2.0',
      });

    it('maps oid to the caller, tid to the tenant and the app roles to roles', async () => {
      const created = await bearer(t, entra('read write')).send(SESSION).expect(201);
      const session = await request(t.app.getHttpServer())
        .get(`/api/v1/sessions/${created.body.session_id}`)
        .set('Authorization', `Bearer ${entra('read')}`)
        .expect(200);
      expect(session.body.created_by).toBe('user-42');
      // An analyst role (read only) cannot create, whatever the scope.
      await bearer(t, entra('write', ['analyst']))
        .send(SESSION)
        .expect(403);
    });

    it('uses oid as the caller id: an agent reaches only /agents/{oid}/...', async () => {
      const created = await bearer(t, entra('write')).send(SESSION).expect(201);
      const agent = idp.token({
        aud: 'api://masa',
        sub: 'pairwise-subject-not-the-agent-id',
        oid: 'agent-7',
        tid: TID,
        roles: ['agent'],
        scp: 'read write',
      });
      const memory = (agentId: string) =>
        request(t.app.getHttpServer())
          .post(`/api/v1/agents/${agentId}/memory`)
          .set('Authorization', `Bearer ${agent}`)
          .send({
            session_id: created.body.session_id,
            memory_data: { k: 1 },
            memory_type: 'working',
            created_by: 'someone-else',
          });
      const own = await memory('agent-7').expect(201);
      expect(own.body.agent_id).toBe('agent-7');
      await memory('pairwise-subject-not-the-agent-id').expect(404);
    });

    it('accepts scp as an array too', async () => {
      await bearer(t, entra(['write']))
        .send(SESSION)
        .expect(201);
      await bearer(t, entra(['read']))
        .send(SESSION)
        .expect(403);
    });

    it('refuses a token for another audience', async () => {
      const wrongAudience = idp.token({
        aud: 'api://other',
        oid: 'o',
        tid: TID,
        roles: ['admin'],
        scp: 'admin',
      });
      await read(t, wrongAudience).expect(401);
    });
  });

  describe('Auth0: namespaced claims with URLs as names', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appWith({
        REDIS_KEY_PREFIX: 'auth0',
        JWT_ROLES_CLAIM: 'https://masa.example.com/roles',
        JWT_TENANT_CLAIM: 'https://masa.example.com/tenant',
        JWT_SCOPES_CLAIM: 'scope',
        JWT_ISSUER: 'https://acme.eu.auth0.com/',
        JWT_AUDIENCE: 'https://masa.example.com/api',
      });
    });
    afterAll(() => t.close());

    const auth0 = (scope: string, roles: string[] = ['orchestrator']) =>
      idp.token({
        iss: 'https://acme.eu.auth0.com/',
        sub: 'auth0|65f1c0ffee0123456789abcd',
        aud: ['https://masa.example.com/api', 'https://acme.eu.auth0.com/userinfo'],
        azp: 'abc123',
        scope,
        'https://masa.example.com/roles': roles,
        'https://masa.example.com/tenant': 'acme',
      });

    it('reads roles and tenant from the namespaced claims', async () => {
      const token = auth0('openid read write');
      const created = await bearer(t, token).send(SESSION).expect(201);
      await request(t.app.getHttpServer())
        .put(`/api/v1/sessions/${created.body.session_id}`)
        .set('Authorization', `Bearer ${token}`)
        .send({ updates: { metadata: { via: 'auth0' } } })
        .expect(200);
      await bearer(t, auth0('openid read')).send(SESSION).expect(403);
      await read(t, auth0('read', ['nobody'])).expect(401);
    });

    it('an admin scope with an analyst role grants only what the role grants', async () => {
      await bearer(t, auth0('admin', ['analyst']))
        .send(SESSION)
        .expect(403);
      await read(t, auth0('admin', ['analyst'])).expect(200);
    });
  });
});
