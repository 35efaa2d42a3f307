#!/usr/bin/env node
/**
 * `npm start` (after `prestart` built the app): runs the API against a Redis so that a fresh clone
 * needs nothing but Node and redis-server.
 *
 *   REDIS_URL set                   -> used as is
 *   a Redis answers on 127.0.0.1:6379 -> used
 *   redis-server on PATH            -> a private one on port 6390 (or the next free port),
 *                                      data in .data/redis, stopped when the API exits
 *   otherwise                       -> exit 1
 *
 * Without JWT_SECRET / JWT_PUBLIC_KEY / JWT_JWKS_URI it also creates a development signing secret
 * in .data/dev-jwt-secret, which `npm run token` reads.
 * DEV_REDIS_PROBE_PORT changes the probed port (6379), for testing this script.
 */
const { spawn, spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const { constants } = require('node:os');
const path = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');

const ROOT = path.join(__dirname, '..');
const ENTRY = path.join(ROOT, 'dist', 'apps', 'api', 'apps', 'api', 'src', 'main.js');
const DATA_DIR = path.join(ROOT, '.data');
const PROBE_PORT = Number(process.env.DEV_REDIS_PROBE_PORT || 6379);
const PRIVATE_PORT = 6390;

function log(message) {
  process.stdout.write(`[npm start] ${message}\n`);
}

function fail(message) {
  process.stderr.write(`[npm start] ${message}\n`);
  process.exit(1);
}

/** True when something on 127.0.0.1:port answers PING with +PONG within timeoutMs. */
function answersPing(port, timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

function isPortFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function startPrivateRedis() {
  let port = PRIVATE_PORT;
  while (!(await isPortFree(port))) port++;
  const dir = path.join(DATA_DIR, 'redis');
  fs.mkdirSync(dir, { recursive: true });
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir];
  args.push('--appendonly', 'yes', '--save', '', '--logfile', path.join(dir, 'redis.log'));
  // Own process group: Ctrl-C reaches the API only, and Redis stays up until the API has closed
  // its connection; we stop it ourselves afterwards.
  const server = spawn('redis-server', args, { stdio: 'ignore', detached: true });
  for (let i = 0; i < 100; i++) {
    if (server.exitCode !== null) break;
    if (await answersPing(port)) return { url: `redis://127.0.0.1:${port}`, server, port };
    await sleep(100);
  }
  server.kill('SIGKILL');
  fail(`redis-server did not start on port ${port}; see .data/redis/redis.log`);
}

async function chooseRedis(appEnv) {
  if (process.env.REDIS_URL) {
    log('using REDIS_URL from the environment');
    return { url: process.env.REDIS_URL };
  }
  if (appEnv === 'production') fail('REDIS_URL is required when APP_ENV=production');
  if (await answersPing(PROBE_PORT)) {
    log(`using the Redis already running on 127.0.0.1:${PROBE_PORT}`);
    return { url: `redis://127.0.0.1:${PROBE_PORT}` };
  }
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error) {
    fail(
      `no Redis answers on 127.0.0.1:${PROBE_PORT} and redis-server is not on PATH.\n` +
        'Install Redis (e.g. apt-get install redis-server, brew install redis) ' +
        'or set REDIS_URL=redis://host:port.',
    );
  }
  const redis = await startPrivateRedis();
  log(`started a private redis-server on port ${redis.port} (data in .data/redis)`);
  return redis;
}

/** The API refuses to start without a token verification key; development gets a stable one. */
function developmentJwtSecret(appEnv) {
  const { JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URI } = process.env;
  if (appEnv === 'production' || JWT_SECRET || JWT_PUBLIC_KEY || JWT_JWKS_URI) return {};
  const file = path.join(DATA_DIR, 'dev-jwt-secret');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(DATA_DIR, { recursive: true });
    fs.writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    log('created a development JWT secret in .data/dev-jwt-secret (npm run -s token uses it)');
  }
  return { JWT_SECRET: fs.readFileSync(file, 'utf8').trim() };
}

function stopRedis(server) {
  if (!server || server.exitCode !== null || server.signalCode !== null) return Promise.resolve();
  // Wait for it to exit so the append-only file is flushed before we do.
  return new Promise((resolve) => {
    server.once('exit', resolve);
    server.kill('SIGTERM');
  });
}

async function main() {
  if (!fs.existsSync(ENTRY)) fail(`${path.relative(ROOT, ENTRY)} is missing: run npm run build`);
  const appEnv = process.env.APP_ENV || 'development';
  const redis = await chooseRedis(appEnv);
  const env = { ...process.env, APP_ENV: appEnv, REDIS_URL: redis.url };
  Object.assign(env, developmentJwtSecret(appEnv));

  const app = spawn(process.execPath, [ENTRY], { cwd: ROOT, env, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => app.kill(signal));
  app.once('error', async (error) => {
    process.stderr.write(`[npm start] could not start the API: ${error.message}\n`);
    await stopRedis(redis.server);
    process.exit(1);
  });
  app.once('exit', async (code, signal) => {
    await stopRedis(redis.server);
    process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
  });
}

void main();
