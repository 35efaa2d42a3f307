// The schema's class-transformer decorators read design-time metadata; the app's entry points load this.
import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEVELOPMENT_REDIS_URL, loadConfig } from './load-config';

type Source = Record<string, string | undefined>;

const SECRET = 's'.repeat(32);
const RBAC_YAML = "roles:\n  admin:\n    - '*'\n  analyst:\n    - sessions:read\n";
const RATE_LIMITS_YAML = [
  'window_seconds: 30',
  'classes:',
  '  reads: 100',
  '  writes: 50',
  '  bulk: 5',
  '  invalidation: 3',
  '  audit_export: 1',
  '',
].join('\n');

const createdDirs: string[] = [];

/** A fresh temporary folder holding exactly `files` (name -> content). */
function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'masa-config-spec-'));
  createdDirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

let policyDir: string;

beforeAll(() => {
  policyDir = tempDir({ 'rbac.yaml': RBAC_YAML, 'rate-limits.yaml': RATE_LIMITS_YAML });
});

afterAll(() => {
  for (const dir of createdDirs) rmSync(dir, { recursive: true, force: true });
});

/** The smallest environment that loads: one JWT key source and the two policy files. */
function env(overrides: Source = {}): Source {
  return {
    JWT_SECRET: SECRET,
    RBAC_CONFIG_PATH: join(policyDir, 'rbac.yaml'),
    RATE_LIMITS_CONFIG_PATH: join(policyDir, 'rate-limits.yaml'),
    APP_VERSION: '9.9.9-spec',
    ...overrides,
  };
}

function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('loadConfig did not fail');
}

describe('loadConfig', () => {
  describe('defaults', () => {
    it('applies the schema defaults when the config folder has no files', () => {
      const config = loadConfig(env(), tempDir());
      expect(config.env).toBe('development');
      expect(config.version).toBe('9.9.9-spec');
      expect(config.http).toEqual({
        host: '0.0.0.0',
        port: 3000,
        bodyLimitBytes: 1024 * 1024,
        compressionMinBytes: 1024,
        trustProxy: false,
      });
      expect(config.redis).toEqual({
        url: DEVELOPMENT_REDIS_URL,
        keyPrefix: 'masa',
        commandTimeoutMs: 2000,
        connectTimeoutMs: 5000,
        evictionPolicyCheck: 'warn',
        minReplicasAck: 0,
        replicaAckTimeoutMs: 500,
        readFrom: 'primary',
        replicaUrl: undefined,
        replicaMaxStalenessMs: 5000,
        replicaReadTimeoutMs: 500,
        autoPipelining: true,
        breaker: {
          failureThreshold: 5,
          windowMs: 10000,
          probeIntervalMs: 1000,
          probeTimeoutMs: 250,
        },
      });
      expect(config.sessions).toEqual({
        defaultTtlSeconds: 604800,
        maxTtlSeconds: 2592000,
        maxPayloadBytes: 256 * 1024,
        sweepIntervalMs: 60000,
      });
      expect(config.logging).toEqual({ level: 'info' });
      expect(config.swagger).toEqual({ enabled: true });
      expect(config.cors).toEqual({ origins: [] });
      expect(config.auth.jwtSecret).toBe(SECRET);
      expect(config.auth.jwtPublicKey).toBeUndefined();
      expect(config.auth.jwksUri).toBeUndefined();
    });

    it('uses the local development Redis URL outside production', () => {
      expect(DEVELOPMENT_REDIS_URL).toBe('redis://127.0.0.1:6379');
      expect(loadConfig(env({ APP_ENV: 'staging' }), tempDir()).redis.url).toBe(
        DEVELOPMENT_REDIS_URL,
      );
    });

    it('reads the version from package.json when APP_VERSION is unset', () => {
      const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as {
        version: string;
      };
      const config = loadConfig(env({ APP_VERSION: undefined }), tempDir());
      expect(config.version).toBe(pkg.version);
    });

    it('loads the RBAC and rate-limit policies from the given paths', () => {
      const config = loadConfig(env(), tempDir());
      expect(config.auth.rolePermissions.admin).toEqual(['*']);
      expect(config.auth.rolePermissions.analyst).toEqual(['sessions:read']);
      expect(config.rateLimits).toEqual({
        windowSeconds: 30,
        limits: { reads: 100, writes: 50, bulk: 5, invalidation: 3, audit_export: 1 },
        failedAuthPerIp: 60,
      });
    });

    it('looks for rbac.yaml and rate-limits.yaml in the config folder by default', () => {
      const dir = tempDir({
        'rbac.yaml': 'roles:\n  agent:\n    - memory:read\n',
        'rate-limits.yaml': RATE_LIMITS_YAML.replace('window_seconds: 30', 'window_seconds: 7'),
      });
      const config = loadConfig(
        env({ RBAC_CONFIG_PATH: undefined, RATE_LIMITS_CONFIG_PATH: undefined }),
        dir,
      );
      expect(config.auth.rolePermissions.agent).toEqual(['memory:read']);
      expect(config.rateLimits.windowSeconds).toBe(7);
    });

    it('stops when a policy file is missing, naming the file', () => {
      const dir = tempDir();
      const error = configError(() => loadConfig(env({ RBAC_CONFIG_PATH: undefined }), dir));
      expect(error.message).toBe(`${join(dir, 'rbac.yaml')} is missing`);
    });

    it('stops when a policy file is invalid, with the parser message', () => {
      const bad = tempDir({ 'rbac.yaml': 'roles:\n  wizard:\n    - sessions:read\n' });
      const error = configError(() =>
        loadConfig(env({ RBAC_CONFIG_PATH: join(bad, 'rbac.yaml') }), tempDir()),
      );
      expect(error.message).toMatch(/unknown role "wizard"/);
    });
  });

  describe('YAML defaults per APP_ENV', () => {
    let dir: string;

    beforeAll(() => {
      dir = tempDir({
        'development.yaml': '# dev\nLOG_LEVEL: debug\nPORT: 4000\nSESSION_SWEEP_INTERVAL_MS: 0\n',
        'staging.yaml': 'LOG_LEVEL: warn\nSWAGGER_ENABLED: false\nREDIS_KEY_PREFIX: stage\n',
        'production.yaml':
          'LOG_LEVEL: error\nSWAGGER_ENABLED: false\nREDIS_COMMAND_TIMEOUT_MS: 1000\n',
        'test.yaml': '# only comments\n',
      });
    });

    it('reads development.yaml when APP_ENV is unset', () => {
      const config = loadConfig(env(), dir);
      expect(config.env).toBe('development');
      expect(config.logging.level).toBe('debug');
      expect(config.http.port).toBe(4000);
      expect(config.sessions.sweepIntervalMs).toBe(0);
    });

    it('reads the file of the selected APP_ENV only', () => {
      const config = loadConfig(env({ APP_ENV: 'staging' }), dir);
      expect(config.env).toBe('staging');
      expect(config.logging.level).toBe('warn');
      expect(config.swagger.enabled).toBe(false);
      expect(config.redis.keyPrefix).toBe('stage');
      // development.yaml's PORT does not leak into staging.
      expect(config.http.port).toBe(3000);
    });

    it('reads production.yaml for APP_ENV=production', () => {
      const config = loadConfig(
        env({ APP_ENV: 'production', REDIS_URL: 'rediss://redis.internal:6380' }),
        dir,
      );
      expect(config.env).toBe('production');
      expect(config.logging.level).toBe('error');
      expect(config.redis.commandTimeoutMs).toBe(1000);
      expect(config.redis.url).toBe('rediss://redis.internal:6380');
    });

    it('treats a YAML file with only comments as empty', () => {
      const config = loadConfig(env({ APP_ENV: 'test' }), dir);
      expect(config.env).toBe('test');
      expect(config.logging.level).toBe('info');
    });

    it('lets environment values override the YAML defaults', () => {
      const config = loadConfig(env({ PORT: '5000', LOG_LEVEL: 'trace' }), dir);
      expect(config.http.port).toBe(5000);
      expect(config.logging.level).toBe('trace');
      // Values the environment does not set still come from the file.
      expect(config.sessions.sweepIntervalMs).toBe(0);
    });

    it('lets the environment turn a YAML false back on', () => {
      expect(
        loadConfig(env({ APP_ENV: 'staging', SWAGGER_ENABLED: 'true' }), dir).swagger.enabled,
      ).toBe(true);
    });

    it('validates YAML values too, naming the variable', () => {
      const bad = tempDir({ 'development.yaml': 'PORT: 99999\n' });
      expect(configError(() => loadConfig(env(), bad)).message).toMatch(/^PORT: /m);
    });

    it('stops when the YAML file is not a mapping', () => {
      const bad = tempDir({ 'development.yaml': '- PORT\n- 3000\n' });
      const error = configError(() => loadConfig(env(), bad));
      expect(error.message).toBe(
        `${join(bad, 'development.yaml')} must be a mapping of VARIABLE: value`,
      );
    });
  });

  describe('invalid values', () => {
    it.each([
      ['PORT', 'abc'],
      ['PORT', '0'],
      ['PORT', '65536'],
      ['PORT', '3000.5'],
      ['SESSION_MAX_BYTES', '1'],
      ['SESSION_MAX_BYTES', String(64 * 1024 * 1024 + 1)],
      ['REDIS_URL', 'http://x'],
      ['REDIS_URL', 'redis//localhost'],
      ['REDIS_KEY_PREFIX', 'a:b'],
      ['REDIS_COMMAND_TIMEOUT_MS', '10'],
      ['REDIS_CONNECT_TIMEOUT_MS', '60001'],
      ['REDIS_MIN_REPLICAS_ACK', '-1'],
      ['REDIS_MIN_REPLICAS_ACK', 'one'],
      ['REDIS_WAIT_TIMEOUT_MS', '5'],
      ['REDIS_BREAKER_FAILURES', '-1'],
      ['REDIS_BREAKER_WINDOW_MS', '10'],
      ['REDIS_BREAKER_PROBE_INTERVAL_MS', 'often'],
      ['REDIS_BREAKER_PROBE_TIMEOUT_MS', '0'],
      ['REDIS_READ_FROM', 'nearest'],
      ['REDIS_REPLICA_URL', 'http://replica'],
      ['REDIS_REPLICA_READ_TIMEOUT_MS', '5'],
      ['REDIS_REPLICA_READ_TIMEOUT_MS', 'soon'],
      ['SESSION_TTL_SECONDS', '59'],
      ['SESSION_SWEEP_INTERVAL_MS', '-1'],
      ['SESSION_L1_CACHE', 'yes'],
      ['SESSION_L1_MAX_ENTRIES', '0'],
      ['SESSION_L1_TTL_MS', '0'],
      ['SESSION_L1_TTL_MS', '60001'],
      ['BODY_LIMIT', '100'],
      ['LOG_LEVEL', 'loud'],
      ['JWT_JWKS_URI', 'not a url'],
      ['SHUTDOWN_DELAY_MS', '-1'],
      ['SHUTDOWN_TIMEOUT_MS', '10'],
    ])('stops on %s=%j with a ConfigError naming the variable', (name, value) => {
      const overrides: Source = { [name]: value };
      if (name === 'JWT_JWKS_URI') overrides.JWT_SECRET = undefined;
      const error = configError(() => loadConfig(env(overrides), tempDir()));
      expect(error.name).toBe('ConfigError');
      expect(error.message).toMatch(new RegExp(`^${name}: `, 'm'));
    });

    it('reports every invalid variable at once', () => {
      const error = configError(() =>
        loadConfig(env({ PORT: 'abc', LOG_LEVEL: 'loud' }), tempDir()),
      );
      expect(error.message).toMatch(/^PORT: /m);
      expect(error.message).toMatch(/^LOG_LEVEL: /m);
    });

    it.each(['prod', 'PRODUCTION', 'dev', ' '])(
      'stops on APP_ENV=%j, listing the allowed values',
      (appEnv) => {
        const error = configError(() => loadConfig(env({ APP_ENV: appEnv }), tempDir()));
        expect(error.message).toBe(
          `APP_ENV must be one of development, staging, production, test (got ${JSON.stringify(appEnv)})`,
        );
      },
    );

    it('stops when SESSION_TTL_SECONDS exceeds SESSION_MAX_TTL_SECONDS', () => {
      const error = configError(() =>
        loadConfig(
          env({ SESSION_TTL_SECONDS: '7200', SESSION_MAX_TTL_SECONDS: '3600' }),
          tempDir(),
        ),
      );
      expect(error.message).toBe('SESSION_TTL_SECONDS must not exceed SESSION_MAX_TTL_SECONDS');
    });

    it('accepts SESSION_TTL_SECONDS equal to SESSION_MAX_TTL_SECONDS', () => {
      const config = loadConfig(
        env({ SESSION_TTL_SECONDS: '3600', SESSION_MAX_TTL_SECONDS: '3600' }),
        tempDir(),
      );
      expect(config.sessions).toMatchObject({ defaultTtlSeconds: 3600, maxTtlSeconds: 3600 });
    });

    it('stops when the shutdown delay does not fit in the shutdown timeout', () => {
      const error = configError(() =>
        loadConfig(env({ SHUTDOWN_DELAY_MS: '30000', SHUTDOWN_TIMEOUT_MS: '25000' }), tempDir()),
      );
      expect(error.message).toBe('SHUTDOWN_DELAY_MS must be shorter than SHUTDOWN_TIMEOUT_MS');
    });

    it('leaves the session L1 cache off unless SESSION_L1_CACHE is true, with its bounds', () => {
      expect(loadConfig(env({ SESSION_L1_MAX_ENTRIES: '5' }), tempDir()).sessions.l1Cache).toBe(
        undefined,
      );
      expect(loadConfig(env({ SESSION_L1_CACHE: 'true' }), tempDir()).sessions.l1Cache).toEqual({
        maxEntries: 10000,
        ttlMs: 2000,
      });
      expect(
        loadConfig(
          env({ SESSION_L1_CACHE: '1', SESSION_L1_MAX_ENTRIES: '50', SESSION_L1_TTL_MS: '500' }),
          tempDir(),
        ).sessions.l1Cache,
      ).toEqual({ maxEntries: 50, ttlMs: 500 });
    });

    it('reads the shutdown delay and timeout', () => {
      const config = loadConfig(
        env({ SHUTDOWN_DELAY_MS: '1500', SHUTDOWN_TIMEOUT_MS: '9000' }),
        tempDir(),
      );
      expect(config.shutdown).toEqual({ delayMs: 1500, timeoutMs: 9000 });
    });

    it('reads the replica acknowledgement settings, off by default', () => {
      expect(loadConfig(env({}), tempDir()).redis).toMatchObject({
        minReplicasAck: 0,
        replicaAckTimeoutMs: 500,
      });
      const config = loadConfig(
        env({ REDIS_MIN_REPLICAS_ACK: '1', REDIS_WAIT_TIMEOUT_MS: '250' }),
        tempDir(),
      );
      expect(config.redis).toMatchObject({ minReplicasAck: 1, replicaAckTimeoutMs: 250 });
    });

    it('stops when WAIT would outlast the command timeout', () => {
      const error = configError(() =>
        loadConfig(
          env({
            REDIS_MIN_REPLICAS_ACK: '1',
            REDIS_WAIT_TIMEOUT_MS: '2000',
            REDIS_COMMAND_TIMEOUT_MS: '2000',
          }),
          tempDir(),
        ),
      );
      expect(error.message).toBe(
        'REDIS_WAIT_TIMEOUT_MS must be shorter than REDIS_COMMAND_TIMEOUT_MS',
      );
    });

    it('stops when the breaker probe may wait longer than a command', () => {
      const error = configError(() =>
        loadConfig(
          env({ REDIS_BREAKER_PROBE_TIMEOUT_MS: '3000', REDIS_COMMAND_TIMEOUT_MS: '2000' }),
          tempDir(),
        ),
      );
      expect(error.message).toBe(
        'REDIS_BREAKER_PROBE_TIMEOUT_MS must not exceed REDIS_COMMAND_TIMEOUT_MS',
      );
    });

    it('stops when the replica read deadline would outlast the command timeout', () => {
      const replica = { REDIS_READ_FROM: 'replica', REDIS_REPLICA_URL: 'redis://replica:6379' };
      const error = configError(() =>
        loadConfig(
          env({
            ...replica,
            REDIS_REPLICA_READ_TIMEOUT_MS: '2000',
            REDIS_COMMAND_TIMEOUT_MS: '2000',
          }),
          tempDir(),
        ),
      );
      expect(error.message).toBe(
        'REDIS_REPLICA_READ_TIMEOUT_MS must be shorter than REDIS_COMMAND_TIMEOUT_MS',
      );
      // Without replica reads the deadline is unused, so it is not checked against the timeout.
      expect(
        loadConfig(env({ REDIS_COMMAND_TIMEOUT_MS: '300' }), tempDir()).redis.replicaReadTimeoutMs,
      ).toBe(500);
      expect(
        loadConfig(env({ ...replica, REDIS_REPLICA_READ_TIMEOUT_MS: '200' }), tempDir()).redis
          .replicaReadTimeoutMs,
      ).toBe(200);
    });

    it('reads from a replica only when it knows where one is', () => {
      const error = configError(() =>
        loadConfig(
          env({ REDIS_READ_FROM: 'replica', REDIS_URL: 'redis://primary:6379' }),
          tempDir(),
        ),
      );
      expect(error.message).toBe(
        'REDIS_READ_FROM=replica with a single-node REDIS_URL needs REDIS_REPLICA_URL',
      );
      const single = loadConfig(
        env({
          REDIS_READ_FROM: 'replica',
          REDIS_URL: 'redis://primary:6379',
          REDIS_REPLICA_URL: 'redis://replica:6379',
        }),
        tempDir(),
      );
      expect(single.redis).toMatchObject({
        readFrom: 'replica',
        replicaUrl: 'redis://replica:6379',
      });
      const sentinel = loadConfig(
        env({ REDIS_READ_FROM: 'replica', REDIS_URL: 'redis-sentinel://s1:26379/masa' }),
        tempDir(),
      );
      expect(sentinel.redis.readFrom).toBe('replica');
    });

    it('stops in production without REDIS_URL', () => {
      const error = configError(() => loadConfig(env({ APP_ENV: 'production' }), tempDir()));
      expect(error.message).toBe('REDIS_URL is required when APP_ENV=production');
    });

    it('stops without any JWT key source', () => {
      const error = configError(() => loadConfig(env({ JWT_SECRET: undefined }), tempDir()));
      expect(error.message).toMatch(/set exactly one of JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URI/);
    });

    it('stops with two JWT key sources', () => {
      const error = configError(() =>
        loadConfig(
          env({ JWT_JWKS_URI: 'https://idp.example.com/.well-known/jwks.json' }),
          tempDir(),
        ),
      );
      expect(error.message).toMatch(/set exactly one of/);
    });

    it('stops on a JWT_SECRET shorter than 32 characters', () => {
      expect(
        configError(() => loadConfig(env({ JWT_SECRET: 'short' }), tempDir())).message,
      ).toMatch(/^JWT_SECRET: /m);
    });
  });

  describe('booleans (SWAGGER_ENABLED)', () => {
    it.each([
      ['true', true],
      ['1', true],
      ['false', false],
      ['0', false],
    ])('reads %j as %s', (value, expected) => {
      expect(loadConfig(env({ SWAGGER_ENABLED: value }), tempDir()).swagger.enabled).toBe(expected);
    });

    it.each(['yes', 'no', 'TRUE', 'on'])('stops on %j, naming SWAGGER_ENABLED', (value) => {
      const error = configError(() => loadConfig(env({ SWAGGER_ENABLED: value }), tempDir()));
      expect(error.message).toMatch(/^SWAGGER_ENABLED: /m);
    });

    it('reads YAML booleans', () => {
      const dir = tempDir({ 'development.yaml': 'SWAGGER_ENABLED: false\n' });
      expect(loadConfig(env(), dir).swagger.enabled).toBe(false);
    });
  });

  describe('empty and unknown environment values', () => {
    it('ignores empty-string values, keeping the defaults', () => {
      const config = loadConfig(
        env({ PORT: '', LOG_LEVEL: '', SWAGGER_ENABLED: '', REDIS_URL: '' }),
        tempDir(),
      );
      expect(config.http.port).toBe(3000);
      expect(config.logging.level).toBe('info');
      expect(config.swagger.enabled).toBe(true);
      expect(config.redis.url).toBe(DEVELOPMENT_REDIS_URL);
    });

    it('ignores an empty-string value in favour of the YAML default', () => {
      const dir = tempDir({ 'development.yaml': 'PORT: 4100\n' });
      expect(loadConfig(env({ PORT: '' }), dir).http.port).toBe(4100);
    });

    it('does not count an empty JWT key variable as a second key source', () => {
      const config = loadConfig(env({ JWT_PUBLIC_KEY: '', JWT_JWKS_URI: '' }), tempDir());
      expect(config.auth.jwtSecret).toBe(SECRET);
    });

    it('does not let an empty REDIS_URL satisfy production', () => {
      const error = configError(() =>
        loadConfig(env({ APP_ENV: 'production', REDIS_URL: '' }), tempDir()),
      );
      expect(error.message).toBe('REDIS_URL is required when APP_ENV=production');
    });

    it('ignores variables the schema does not know', () => {
      const config = loadConfig(
        env({ PATH: '/usr/bin', HOME: '/root', SOMETHING_ELSE: 'x' }),
        tempDir(),
      );
      expect(config.env).toBe('development');
      expect(JSON.stringify(config)).not.toContain('/usr/bin');
    });
  });

  describe('derived values', () => {
    it('splits CORS_ORIGINS on commas and drops blanks', () => {
      const config = loadConfig(
        env({ CORS_ORIGINS: ' https://a.example , ,https://b.example,' }),
        tempDir(),
      );
      expect(config.cors.origins).toEqual(['https://a.example', 'https://b.example']);
    });

    it('turns literal \\n in JWT_PUBLIC_KEY into new lines', () => {
      const pem = '-----BEGIN PUBLIC KEY-----\\nMFkw\\n-----END PUBLIC KEY-----';
      const config = loadConfig(env({ JWT_SECRET: undefined, JWT_PUBLIC_KEY: pem }), tempDir());
      expect(config.auth.jwtPublicKey).toBe(
        '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----',
      );
    });
  });

  it('names its error class ConfigError', () => {
    const error = new ConfigError('x');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigError');
    expect(error.message).toBe('x');
  });
});

describe('loadConfig error messages', () => {
  it('never echoes a secret or a connection string it refuses', () => {
    const short = configError(() => loadConfig(env({ JWT_SECRET: 'my-short-secret' }), tempDir()));
    expect(short.message).toContain('JWT_SECRET');
    expect(short.message).not.toContain('my-short-secret');

    const url = configError(() =>
      loadConfig(env({ REDIS_URL: 'http://user:hunter2@h' }), tempDir()),
    );
    expect(url.message).toContain('REDIS_URL');
    expect(url.message).not.toContain('hunter2');
  });

  it('still shows non-secret values to help fix them', () => {
    expect(configError(() => loadConfig(env({ PORT: 'abc' }), tempDir())).message).toContain(
      '"abc"',
    );
  });

  it('treats an empty APP_ENV like an unset one', () => {
    expect(loadConfig(env({ APP_ENV: '' }), tempDir()).env).toBe('development');
  });

  it('treats an empty YAML value as no default', () => {
    const dir = tempDir({ 'development.yaml': 'REDIS_URL:\nLOG_LEVEL: warn\n' });
    const config = loadConfig(env(), dir);
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.logging.level).toBe('warn');
  });
});

describe('TRUST_PROXY', () => {
  it.each([
    [undefined, false],
    ['false', false],
    ['true', true],
    ['2', 2],
    ['10.0.0.0/8,127.0.0.1', ['10.0.0.0/8', '127.0.0.1']],
  ])('reads %j as %j', (value, expected) => {
    expect(loadConfig(env({ TRUST_PROXY: value }), tempDir()).http.trustProxy).toEqual(expected);
  });

  it('refuses anything else, naming the variable', () => {
    expect(
      configError(() => loadConfig(env({ TRUST_PROXY: 'yes please' }), tempDir())).message,
    ).toContain('TRUST_PROXY');
  });
});

describe('AUDIT_*', () => {
  it('defaults to writes only, PII masking on, 8 KiB payloads, 7 years, no seal', () => {
    expect(loadConfig(env(), tempDir()).audit).toEqual({
      reads: false,
      stdout: false,
      piiMasking: true,
      payloads: 'fields',
      maxPayloadBytes: 8192,
      retentionDays: 2557,
      sweepIntervalMs: 3600000,
      sealKey: undefined,
      sealIntervalMs: 60000,
    });
  });

  it('reads the flags and refuses a seal key shorter than 32 characters', () => {
    const audit = loadConfig(
      env({ AUDIT_READS: 'true', AUDIT_PII_MASKING: 'false', AUDIT_RETENTION_DAYS: '30' }),
      tempDir(),
    ).audit;
    expect(audit).toMatchObject({
      reads: true,
      piiMasking: false,
      retentionDays: 30,
      payloads: 'fields',
    });
    expect(loadConfig(env({ AUDIT_PAYLOADS: 'values' }), tempDir()).audit.payloads).toBe('values');
    expect(
      configError(() => loadConfig(env({ AUDIT_PAYLOADS: 'all' }), tempDir())).message,
    ).toContain('AUDIT_PAYLOADS');
    expect(
      configError(() => loadConfig(env({ AUDIT_SEAL_KEY: 'short' }), tempDir())).message,
    ).toContain('AUDIT_SEAL_KEY');
  });
});
