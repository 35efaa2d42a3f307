import { InvalidRedisUrlError, parseRedisUrl, redactRedisUrl, type RedisTarget } from './redis-url';

function expectInvalid(raw: string, reason: RegExp): void {
  let caught: unknown;
  try {
    parseRedisUrl(raw);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidRedisUrlError);
  expect((caught as Error).name).toBe('InvalidRedisUrlError');
  expect((caught as Error).message).toMatch(/^REDIS_URL is invalid: /);
  expect((caught as Error).message).toMatch(reason);
}

describe('parseRedisUrl', () => {
  describe('schemes', () => {
    it('redis:// is a standalone target without TLS', () => {
      expect(parseRedisUrl('redis://cache.local:6380/2')).toEqual<RedisTarget>({
        kind: 'standalone',
        node: { host: 'cache.local', port: 6380 },
        db: 2,
        tls: false,
      });
    });

    it('rediss:// is a standalone target over TLS', () => {
      expect(parseRedisUrl('rediss://cache.example.com:6380')).toEqual<RedisTarget>({
        kind: 'standalone',
        node: { host: 'cache.example.com', port: 6380 },
        db: 0,
        tls: true,
      });
    });

    it('redis-cluster:// lists every seed node, without TLS', () => {
      expect(parseRedisUrl('redis-cluster://n1:7000,n2:7001,n3')).toEqual<RedisTarget>({
        kind: 'cluster',
        nodes: [
          { host: 'n1', port: 7000 },
          { host: 'n2', port: 7001 },
          { host: 'n3', port: 6379 },
        ],
        tls: false,
      });
    });

    it('rediss-cluster:// is a cluster over TLS', () => {
      const target = parseRedisUrl('rediss-cluster://n1:7000');
      expect(target).toEqual<RedisTarget>({
        kind: 'cluster',
        nodes: [{ host: 'n1', port: 7000 }],
        tls: true,
      });
    });

    it('redis-sentinel:// takes sentinels, a master name and an optional db', () => {
      expect(parseRedisUrl('redis-sentinel://s1:26379,s2:26380/mymaster/3')).toEqual<RedisTarget>({
        kind: 'sentinel',
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26380 },
        ],
        masterName: 'mymaster',
        db: 3,
        tls: false,
      });
    });

    it('rediss-sentinel:// is a sentinel group over TLS, db defaulting to 0', () => {
      expect(parseRedisUrl('rediss-sentinel://s1:26379/primary')).toEqual<RedisTarget>({
        kind: 'sentinel',
        sentinels: [{ host: 's1', port: 26379 }],
        masterName: 'primary',
        db: 0,
        tls: true,
      });
    });

    it('accepts the scheme in any letter case and ignores surrounding whitespace', () => {
      const target = parseRedisUrl('  REDISS://Host:6380  ');
      expect(target).toMatchObject({
        kind: 'standalone',
        tls: true,
        node: { host: 'Host', port: 6380 },
      });
    });
  });

  describe('credentials', () => {
    it('reads user and password from user:pass@', () => {
      expect(parseRedisUrl('redis://alice:s3cret@h:6379')).toMatchObject({
        username: 'alice',
        password: 's3cret',
      });
    });

    it('treats :pass@ as password only (default user)', () => {
      const target = parseRedisUrl('redis://:s3cret@h:6379');
      expect(target.password).toBe('s3cret');
      expect(target.username).toBeUndefined();
    });

    it('treats user@ without a colon as a username with no password', () => {
      const target = parseRedisUrl('redis://alice@h');
      expect(target.username).toBe('alice');
      expect(target.password).toBeUndefined();
    });

    it('percent-decodes user and password (so ":" "@" "/" can appear in them)', () => {
      const target = parseRedisUrl('redis://us%3Aer:p%40ss%2Fw%3Ard%25@h:6379');
      expect(target.username).toBe('us:er');
      expect(target.password).toBe('p@ss/w:rd%');
    });

    it('keeps a colon that follows the first one as part of the password', () => {
      expect(parseRedisUrl('redis://u:a:b@h').password).toBe('a:b');
    });

    it('sets no credentials when the URL has none', () => {
      const target = parseRedisUrl('redis://h');
      expect(target.username).toBeUndefined();
      expect(target.password).toBeUndefined();
    });

    it('applies credentials to cluster and sentinel targets too', () => {
      expect(parseRedisUrl('rediss-cluster://u:p@n1:7000,n2:7001')).toMatchObject({
        kind: 'cluster',
        username: 'u',
        password: 'p',
        tls: true,
      });
      expect(parseRedisUrl('redis-sentinel://:p@s1/m')).toMatchObject({
        kind: 'sentinel',
        password: 'p',
      });
    });
  });

  describe('hosts, ports and db', () => {
    it('parses a bracketed IPv6 host and strips the brackets', () => {
      expect(parseRedisUrl('redis://[::1]:6380')).toMatchObject({
        kind: 'standalone',
        node: { host: '::1', port: 6380 },
      });
    });

    it('parses IPv6 seed nodes in a cluster list', () => {
      const target = parseRedisUrl('redis-cluster://[fe80::1]:7000,[::1]');
      expect(target).toMatchObject({
        nodes: [
          { host: 'fe80::1', port: 7000 },
          { host: '::1', port: 6379 },
        ],
      });
    });

    it('defaults the port to 6379', () => {
      expect(parseRedisUrl('redis://localhost')).toMatchObject({
        node: { host: 'localhost', port: 6379 },
      });
      expect(parseRedisUrl('redis://[::1]')).toMatchObject({ node: { host: '::1', port: 6379 } });
    });

    it('accepts the port range edges 1 and 65535', () => {
      expect(parseRedisUrl('redis://h:1')).toMatchObject({ node: { port: 1 } });
      expect(parseRedisUrl('redis://h:65535')).toMatchObject({ node: { port: 65535 } });
    });

    it('reads the db number from the path and defaults it to 0', () => {
      expect(parseRedisUrl('redis://h:6379/15')).toMatchObject({ db: 15 });
      expect(parseRedisUrl('redis://h:6379/')).toMatchObject({ db: 0 });
      expect(parseRedisUrl('redis://h:6379')).toMatchObject({ db: 0 });
    });
  });

  describe('errors', () => {
    it.each(['http://h:6379', 'unix://h', 'valkey://h', 'redis-cluster-x://h'])(
      'rejects the unsupported scheme in %s and lists the supported ones',
      (raw) => expectInvalid(raw, /unsupported scheme .*redis:, rediss:, redis-cluster:/),
    );

    it('rejects a sentinel URL without a master name', () => {
      expectInvalid('redis-sentinel://s1:26379', /needs \/<master-name>/);
      expectInvalid('rediss-sentinel://s1:26379/', /needs \/<master-name>/);
    });

    it('rejects two hosts for a standalone URL', () => {
      expectInvalid('redis://h1:6379,h2:6379', /standalone URL takes one host/);
      expectInvalid('rediss://h1,h2', /standalone URL takes one host/);
    });

    it('rejects a db number on a cluster URL', () => {
      expectInvalid('redis-cluster://n1:7000/0', /Cluster has no database number/);
    });

    it.each(['redis://h:0', 'redis://h:65536', 'redis://h:99999'])(
      'rejects the out-of-range port in %s',
      (raw) => expectInvalid(raw, /bad port/),
    );

    it.each([
      'redis://h:abc',
      'redis://h:',
      'redis://h:123456',
      'redis://[::1',
      'redis://a:1:2',
      'redis://h1,,h2',
    ])('rejects the malformed host or port in %s', (raw) => expectInvalid(raw, /bad host/));

    it.each(['redis://h/x', 'redis://h/100', 'redis://h/-1', 'redis-sentinel://s/m/x'])(
      'rejects the bad db number in %s',
      (raw) => expectInvalid(raw, /bad database number/),
    );

    it.each([
      '',
      '   ',
      'garbage',
      'localhost:6379',
      'redis:/h',
      'redis://',
      '://h',
      'redis://h?db=1',
      'redis://h#x',
    ])('rejects the unparseable value %j', (raw) => expectInvalid(raw, /expected scheme:\/\//));
  });
});

describe('redactRedisUrl', () => {
  it('replaces the password and keeps the user, host and path', () => {
    expect(redactRedisUrl('redis://alice:s3cret@h:6379/2')).toBe('redis://alice:***@h:6379/2');
  });

  it('replaces a password-only credential', () => {
    expect(redactRedisUrl('rediss://:s3cret@h:6380')).toBe('rediss://:***@h:6380');
  });

  it('replaces a percent-encoded password', () => {
    const redacted = redactRedisUrl('redis-sentinel://u:p%40ss%3Aw@s1:26379/m');
    expect(redacted).toBe('redis-sentinel://u:***@s1:26379/m');
    expect(redacted).not.toContain('p%40ss');
  });

  it('leaves a URL without a password unchanged', () => {
    expect(redactRedisUrl('redis://h:6379/0')).toBe('redis://h:6379/0');
    expect(redactRedisUrl('redis://alice@h:6379')).toBe('redis://alice@h:6379');
    expect(redactRedisUrl('redis-cluster://n1:7000,n2:7001')).toBe(
      'redis-cluster://n1:7000,n2:7001',
    );
  });
});

describe('parseRedisUrl with hostile credentials', () => {
  it('rejects malformed percent-encoding as an invalid REDIS_URL', () => {
    expectInvalid('redis://u:%zz@h', /percent-encoding/);
  });

  it('rejects an unencoded @ in the password instead of shifting it into the host', () => {
    expectInvalid('redis://u:p@ss@h', /bad host/);
  });
});
