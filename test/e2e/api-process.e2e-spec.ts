import { RedisServer } from '../support/redis-server';
import { logLines, spawnApi, startApiProcess, type ApiProcess } from '../support/api-process';
import { tokenFor } from '../support/test-app';

jest.setTimeout(180_000);

/** What only the running process shows: its log lines and its start-up. */
describe('The API process', () => {
  let redis: RedisServer;
  let app: ApiProcess;

  beforeAll(async () => {
    redis = await RedisServer.start();
    app = await startApiProcess({ REDIS_URL: redis.url });
  });

  afterAll(async () => {
    await app?.stop();
    await redis.dispose();
  });

  const waitForLog = async (predicate: (line: Record<string, unknown>) => boolean) => {
    for (let i = 0; i < 40; i++) {
      if (logLines(app.stdout()).some(predicate)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('never writes a credential sent in the query string to any log line', async () => {
    const secrets = [
      'eyJhbGciOi.query-token.Sig1',
      'masa_live_secret_key_77',
      'hunter2-client-secret',
    ];
    const refused = await fetch(`${app.api}/sessions?access_token=${secrets[0]}&limit=5`);
    expect(refused.status).toBe(401);
    const token = tokenFor({ sub: 'orch-1', roles: ['orchestrator'] });
    const withKey = await fetch(
      `${app.api}/sessions?api_key=${secrets[1]}&client_secret=${secrets[2]}`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    expect(withKey.status).toBe(400);
    await waitForLog((line) => JSON.stringify(line).includes('client_secret'));

    const log = app.stdout() + app.stderr();
    for (const secret of [...secrets, token]) expect(log).not.toContain(secret);
    expect(log).toContain('[redacted]');
  });

  it('logs why a token was refused at info, with the request id', async () => {
    const expired = tokenFor({ sub: 'orch-1', roles: ['orchestrator'] }, { expiresIn: -60 });
    const response = await fetch(`${app.api}/sessions`, {
      headers: { authorization: `Bearer ${expired}`, 'x-request-id': 'why-was-i-refused-1' },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('the token has expired');
    const isRefusal = (line: Record<string, unknown>) =>
      line.msg === 'bearer token refused' && line.request_id === 'why-was-i-refused-1';
    await waitForLog(isRefusal);
    const refusal = logLines(app.stdout()).find(isRefusal);
    expect(refusal).toMatchObject({ level: 30, reason: 'the token has expired' });
    expect(JSON.stringify(refusal)).not.toContain(expired);
  });

  it('refuses to start on a busy port with one line naming the port and PORT, before claiming success', async () => {
    const second = spawnApi({ PORT: String(app.port), REDIS_URL: redis.url });
    const code = await second.exited;
    expect(code).toBe(1);
    expect(second.stderr()).toBe(
      `Not starting: Port ${app.port} is already in use (127.0.0.1:${app.port}); ` +
        'stop what uses it or set PORT to another port, e.g. PORT=3001.\n',
    );
    expect(second.stdout()).not.toMatch(/successfully started|listening on/);
  });
});
