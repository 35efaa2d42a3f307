import {
  InvalidKeyPartError,
  RedisKeyBuilder,
  SessionKeyspace,
  TENANT_PATTERN,
  encodeKeyPart,
} from './redis-key-builder';
import { MemoryKeyspace } from './memory-keyspace';

// cluster-key-slot (a dependency of ioredis) ships no type declarations and exports the slot
// function itself (`module.exports = function generate(key)`), so it is loaded with a typed require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const calculateSlot = require('cluster-key-slot') as (key: string) => number;

/** The part of a key Redis Cluster hashes: the content of the first non-empty `{...}`. */
function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return undefined;
  return key.slice(open + 1, close);
}

/** Every key name a keyspace can produce, with sample ids, creators and statuses. */
function everyKey(keys: SessionKeyspace, creator = 'agent-7'): string[] {
  return [
    keys.record('0b9f8c1e-8a43-4c55-9d3b-8e3c1a2f6d10'),
    keys.all,
    keys.byStatus('active'),
    keys.byCreator(creator),
    keys.byCreatorAndStatus(creator, 'closed'),
    keys.members,
    keys.expiry,
    keys.indexFor({}),
    keys.indexFor({ status: 'active' }),
    keys.indexFor({ createdBy: creator }),
    keys.indexFor({ createdBy: creator, status: 'active' }),
  ];
}

describe('RedisKeyBuilder', () => {
  const builder = new RedisKeyBuilder('masa');

  describe('hash tags', () => {
    it('puts the tenant hash tag {tenant} in every session key', () => {
      const keys = builder.sessions('acme');
      for (const key of everyKey(keys)) {
        expect(key.startsWith('masa:{acme}:')).toBe(true);
        expect(hashTagOf(key)).toBe('acme');
      }
      // Infixes (`:status:`, `:type:`) are glued after a prefix, never used alone.
      for (const prefix of keys.scriptLayout().filter((part) => !part.startsWith(':'))) {
        expect(prefix.startsWith('masa:{acme}:')).toBe(true);
      }
    });

    it('maps every key of one tenant to the same Redis Cluster slot', () => {
      const keys = builder.sessions('acme');
      const hostileCreator = 'x}{other}:y z';
      const slots = new Set(
        [...everyKey(keys), ...everyKey(keys, hostileCreator)].map((key) => calculateSlot(key)),
      );
      expect(slots.size).toBe(1);
      expect([...slots][0]).toBe(calculateSlot('{acme}'));
    });

    it('gives different tenants different prefixes and (here) different slots', () => {
      const acme = builder.sessions('acme');
      const globex = builder.sessions('globex');
      expect(acme.tenantPrefix).toBe('masa:{acme}:');
      expect(globex.tenantPrefix).toBe('masa:{globex}:');
      for (const key of everyKey(globex)) expect(key.startsWith(acme.tenantPrefix)).toBe(false);
      expect(calculateSlot(acme.all)).not.toBe(calculateSlot(globex.all));
    });

    it('does not let one tenant name be a prefix-collision of another ("a" vs "a-b")', () => {
      const short = builder.sessions('a');
      const long = builder.sessions('a-b');
      for (const key of everyKey(long)) expect(key.startsWith(short.tenantPrefix)).toBe(false);
    });

    it('keeps the tenant registry outside any tenant hash tag', () => {
      expect(builder.tenantRegistry()).toBe('masa:tenants');
      expect(hashTagOf(builder.tenantRegistry())).toBeUndefined();
    });

    it('gives each registry shard a hash tag of its own that no tenant key carries', () => {
      expect(builder.tenantRegistryShard(7)).toBe('masa:tenants:{7}');
      expect(hashTagOf(builder.tenantRegistryShard(7))).toBe('7');
      expect(builder.tenantOf(builder.tenantRegistryShard(7))).toBeUndefined();
    });

    it('keeps the registration marker in the tenant slot but outside its keys', () => {
      expect(builder.tenantRegistration('acme')).toBe('masa:registered:{acme}');
      expect(hashTagOf(builder.tenantRegistration('acme'))).toBe('acme');
      expect(builder.tenantOf(builder.tenantRegistration('acme'))).toBeUndefined();
    });

    it('uses the configured prefix', () => {
      expect(new RedisKeyBuilder('other_App-1').tenantPrefix('t1')).toBe('other_App-1:{t1}:');
    });
  });

  describe('tenantOf (offline tools reading the keyspace)', () => {
    it('reads the tenant back from any of its keys', () => {
      expect(builder.tenantOf(builder.sessions('acme').record('s1'))).toBe('acme');
      expect(builder.tenantOf(builder.cache('t-2').entry('a:b'))).toBe('t-2');
    });

    it('ignores keys that are not tenant-scoped or carry an invalid tenant', () => {
      expect(builder.tenantOf(builder.tenantRegistry())).toBeUndefined();
      expect(builder.tenantOf('other:{acme}:session:1')).toBeUndefined();
      expect(builder.tenantOf('masa:{ACME}:x')).toBeUndefined();
      expect(builder.tenantOf('masa:{acme')).toBeUndefined();
    });

    it('scans only keys of this prefix that carry a hash tag', () => {
      expect(builder.tenantKeysPattern()).toBe('masa:{*}:*');
    });
  });

  describe('validation', () => {
    it.each([
      ['braces', 'ac{me}'],
      ['a closing brace', 'acme}'],
      ['uppercase', 'Acme'],
      ['empty', ''],
      ['too long (64 chars)', 'a'.repeat(64)],
      ['a colon', 'ac:me'],
      ['a space', 'ac me'],
      ['a leading dash', '-acme'],
      ['a leading underscore', '_acme'],
      ['a trailing newline', 'acme\n'],
    ])('rejects a tenant with %s', (_label, tenant) => {
      expect(() => builder.tenantPrefix(tenant)).toThrow(InvalidKeyPartError);
      expect(() => builder.sessions(tenant)).toThrow(InvalidKeyPartError);
      expect(() => builder.tenantPrefix(tenant)).toThrow(
        `invalid tenant for a Redis key: ${JSON.stringify(tenant)}`,
      );
    });

    it.each(['a', '0', 'acme', 'a-b_c9', 'a'.repeat(63)])('accepts the tenant %j', (tenant) => {
      expect(TENANT_PATTERN.test(tenant)).toBe(true);
      expect(builder.tenantPrefix(tenant)).toBe(`masa:{${tenant}}:`);
    });

    it.each([
      ['empty', ''],
      ['too long (33 chars)', 'p'.repeat(33)],
      ['a colon', 'ma:sa'],
      ['braces', '{masa}'],
      ['a space', 'ma sa'],
      ['a dot', 'ma.sa'],
    ])('rejects a key prefix with %s', (_label, prefix) => {
      expect(() => new RedisKeyBuilder(prefix)).toThrow(InvalidKeyPartError);
      expect(() => new RedisKeyBuilder(prefix)).toThrow(
        `invalid key prefix for a Redis key: ${JSON.stringify(prefix)}`,
      );
    });

    it('names the error InvalidKeyPartError', () => {
      const error = new InvalidKeyPartError('tenant', 'X');
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('InvalidKeyPartError');
    });
  });

  describe('creator ids', () => {
    const keys = builder.sessions('acme');

    it.each([
      ['a colon', 'a:b', 'a%3Ab'],
      ['an opening brace', 'a{b', 'a%7Bb'],
      ['a closing brace', 'a}b', 'a%7Db'],
      ['a space', 'a b', 'a%20b'],
      ['a percent sign', 'a%3Ab', 'a%253Ab'],
    ])('percent-encodes %s in the creator index key', (_label, creator, encoded) => {
      expect(encodeKeyPart(creator)).toBe(encoded);
      expect(keys.byCreator(creator)).toBe(`masa:{acme}:sessions:creator:${encoded}`);
    });

    it('leaves the encoded part free of ":", "{", "}" and spaces', () => {
      const encoded = encodeKeyPart('x:{y} z}:{');
      expect(encoded).not.toMatch(/[:{} ]/);
    });

    it('cannot forge the creator+status index of another creator', () => {
      // Unencoded, creator "bob:status:active" would produce bob's "active" index key.
      const forged = keys.byCreator('bob:status:active');
      expect(forged).not.toBe(keys.byCreatorAndStatus('bob', 'active'));
      expect(forged).toBe('masa:{acme}:sessions:creator:bob%3Astatus%3Aactive');
    });

    it("cannot forge another tenant's key or move out of the tenant's slot", () => {
      const forged = keys.byCreator('}:x:{globex}');
      expect(forged.startsWith('masa:{acme}:')).toBe(true);
      expect(hashTagOf(forged)).toBe('acme');
      expect(calculateSlot(forged)).toBe(calculateSlot(keys.all));
    });

    it('keeps distinct creators on distinct keys', () => {
      expect(keys.byCreator('a:b')).not.toBe(keys.byCreator('a%3Ab'));
      expect(keys.byCreator('a b')).not.toBe(keys.byCreator('a+b'));
    });
  });

  describe('SessionKeyspace', () => {
    const keys = builder.sessions('acme');

    it('names each key under the tenant prefix', () => {
      expect(keys.record('s1')).toBe('masa:{acme}:session:s1');
      expect(keys.all).toBe('masa:{acme}:sessions');
      expect(keys.byStatus('active')).toBe('masa:{acme}:sessions:status:active');
      expect(keys.byCreator('bob')).toBe('masa:{acme}:sessions:creator:bob');
      expect(keys.byCreatorAndStatus('bob', 'closed')).toBe(
        'masa:{acme}:sessions:creator:bob:status:closed',
      );
      expect(keys.members).toBe('masa:{acme}:sessions:members');
      expect(keys.expiry).toBe('masa:{acme}:sessions:expiry');
    });

    it('keeps record keys apart from index keys', () => {
      const indexKeys = [
        keys.all,
        keys.members,
        keys.expiry,
        keys.byStatus('x'),
        keys.byCreator('y'),
      ];
      for (const key of indexKeys) expect(key.startsWith(keys.recordPrefix)).toBe(false);
    });

    describe('indexFor', () => {
      it('uses the all-sessions index when no filter is given', () => {
        expect(keys.indexFor({})).toBe(keys.all);
      });

      it('uses the status index for a status filter only', () => {
        expect(keys.indexFor({ status: 'active' })).toBe(keys.byStatus('active'));
      });

      it('uses the creator index for a creator filter only', () => {
        expect(keys.indexFor({ createdBy: 'bob' })).toBe(keys.byCreator('bob'));
      });

      it('uses the creator+status index when both filters are given', () => {
        expect(keys.indexFor({ createdBy: 'bob', status: 'closed' })).toBe(
          keys.byCreatorAndStatus('bob', 'closed'),
        );
      });

      it('treats an explicitly undefined filter like an absent one', () => {
        expect(keys.indexFor({ createdBy: undefined, status: undefined })).toBe(keys.all);
        expect(keys.indexFor({ createdBy: undefined, status: 'active' })).toBe(
          keys.byStatus('active'),
        );
      });

      it('treats an empty-string filter as a filter (not as absent)', () => {
        expect(keys.indexFor({ createdBy: '' })).toBe(keys.byCreator(''));
        expect(keys.indexFor({ status: '' })).toBe(keys.byStatus(''));
      });

      it('encodes the creator in the index it picks', () => {
        expect(keys.indexFor({ createdBy: 'a:b', status: 'active' })).toBe(
          'masa:{acme}:sessions:creator:a%3Ab:status:active',
        );
      });
    });

    it('hands Lua the key parts in the fixed order the script prelude reads', () => {
      expect(keys.scriptLayout()).toEqual([
        'masa:{acme}:session:',
        'masa:{acme}:sessions',
        'masa:{acme}:sessions:status:',
        'masa:{acme}:sessions:creator:',
        ':status:',
        'masa:{acme}:sessions:members',
        'masa:{acme}:sessions:expiry',
        ...new MemoryKeyspace('masa:{acme}:').scriptLayout(),
      ]);
      expect(keys.scriptLayout()).toEqual([
        keys.recordPrefix,
        keys.all,
        keys.statusPrefix,
        keys.creatorPrefix,
        keys.creatorStatusInfix,
        keys.members,
        keys.expiry,
        ...builder.memory('acme').scriptLayout(),
      ]);
    });

    it('builds from a raw prefix the same names the builder gives', () => {
      const direct = new SessionKeyspace('masa:{acme}:');
      expect(direct.scriptLayout()).toEqual(keys.scriptLayout());
    });
  });
});
