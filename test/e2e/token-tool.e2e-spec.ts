import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { RedisServer } from '../support/redis-server';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../support/test-app';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'token.js');

function token(...args: string[]) {
  const run = spawnSync(process.execPath, [SCRIPT, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, JWT_SECRET: TEST_JWT_SECRET },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** `npm run token`: clear messages instead of stack traces, and only tokens the API accepts. */
describe('npm run token', () => {
  let redis: RedisServer;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    t = await startTestApp(redis.url);
  });

  afterAll(async () => {
    await t.close();
    await redis.dispose();
  });

  it('prints usage for --help on stdout and exits 0', () => {
    const help = token('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run -s token -- --sub <id> \[options\]/);
    expect(help.stdout).toContain('--tenant <id>');
    expect(help.stderr).toBe('');
  });

  it.each([
    [['--ttl', '-1s', '--sub', 'x'], /Option '--ttl' argument is ambiguous/],
    [['--sub', 'x', '--ttl', '0s'], /--ttl "0s" must be a positive whole number/],
    [['--sub', 'x', '--ttl', '40d'], /at most 30d/],
    [
      ['--sub', 'x', '--tenant', 'ACME'],
      /--tenant "ACME" would be refused by the API.*did you mean --tenant acme\?/,
    ],
    [['--sub', 'x', '--roles', 'root'], /unknown role\(s\): root/],
    [['--sub=-x'], /--sub "-x" must be 1-128 characters/],
    [['--roles', 'agent'], /--sub is required/],
    [['--sub', 'x', '--colour', 'red'], /Unknown option '--colour'/],
  ])('refuses %j with one clear message and exit code 2', (args, message) => {
    const run = token(...args);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('npm run -s token -- --help');
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('prints a bare token the API accepts', async () => {
    const run = token(
      '--sub',
      'orch-1',
      '--roles',
      'orchestrator',
      '--tenant',
      'acme',
      '--ttl',
      '15m',
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    await t.anonymous
      .get('/api/v1/sessions')
      .set('Authorization', `Bearer ${run.stdout.trim()}`)
      .expect(200);
  });
});
