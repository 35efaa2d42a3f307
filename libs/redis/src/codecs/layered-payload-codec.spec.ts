import { randomBytes } from 'node:crypto';
import { InvalidEncryptionKeyError, parseKeyRing } from './key-ring';
import { LayeredPayloadCodec } from './layered-payload-codec';
import { PayloadDecodeError } from './payload-decode.error';

const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('base64');
const big = { text: 'lorem ipsum '.repeat(200), list: Array.from({ length: 50 }, (_, i) => i) };

function codec(keys = '', compressionMinBytes = 1024) {
  return new LayeredPayloadCodec({ compressionMinBytes, encryptionKeys: parseKeyRing(keys) });
}

function decodeError(run: () => unknown): PayloadDecodeError {
  try {
    run();
  } catch (error) {
    if (error instanceof PayloadDecodeError) return error;
    throw error;
  }
  throw new Error('expected a PayloadDecodeError');
}

describe('LayeredPayloadCodec', () => {
  it('keeps small values as plain JSON when no key ring is set', () => {
    const plain = codec();
    expect(plain.encode({ a: 1 })).toBe('{"a":1}');
    expect(plain.decode('{"a":1}')).toEqual({ a: 1 });
    expect(plain.isCurrent('{"a":1}')).toBe(true);
  });

  it('gzips at or above the threshold only, and round-trips', () => {
    const plain = codec('', 1024);
    const stored = plain.encode(big);
    expect(stored.startsWith('v1:gzip::')).toBe(true);
    expect(stored.length).toBeLessThan(JSON.stringify(big).length);
    expect(plain.decode(stored)).toEqual(big);

    const small = { note: 'x'.repeat(100) };
    expect(plain.encode(small)).toBe(JSON.stringify(small));
  });

  it('encrypts with the first key, records its id, and never repeats a ciphertext', () => {
    const sealed = codec(`a:${keyA}`);
    const first = sealed.encode({ secret: 'value' });
    const second = sealed.encode({ secret: 'value' });
    expect(first).toMatch(/^v1:aes256gcm:a:[A-Za-z0-9+/=]+$/);
    expect(first).not.toContain('secret');
    expect(first).not.toBe(second);
    expect(sealed.decode(first)).toEqual({ secret: 'value' });
    expect(sealed.encode(big).startsWith('v1:gzip+aes256gcm:a:')).toBe(true);
    expect(sealed.decode(sealed.encode(big))).toEqual(big);
  });

  it('still reads plain JSON written before encryption was turned on', () => {
    expect(codec(`a:${keyA}`).decode('{"old":true}')).toEqual({ old: true });
  });

  it('rotates: a ring [b, a] reads values of both keys and writes with b', () => {
    const stored = codec(`a:${keyA}`).encode({ v: 'from a' });
    const rotated = codec(`b:${keyB},a:${keyA}`);
    expect(rotated.decode(stored)).toEqual({ v: 'from a' });
    expect(rotated.isCurrent(stored)).toBe(false);
    const rewritten = rotated.encode(rotated.decode(stored));
    expect(rewritten.startsWith('v1:aes256gcm:b:')).toBe(true);
    expect(rotated.isCurrent(rewritten)).toBe(true);
    expect(codec(`b:${keyB}`).decode(rewritten)).toEqual({ v: 'from a' });
  });

  it('refuses a value whose key id is not in the ring, naming the id', () => {
    const stored = codec(`a:${keyA}`).encode({ v: 1 });
    const error = decodeError(() => codec(`b:${keyB}`).decode(stored));
    expect(error.keyId).toBe('a');
    expect(error.message).toContain('"a"');
    expect(error.message).toContain('not in ENCRYPTION_KEYS');
  });

  it('refuses a tampered value or a different key under the same id, naming the id', () => {
    const sealed = codec(`a:${keyA}`);
    const stored = sealed.encode({ amount: 100 });
    const bytes = Buffer.from(stored.split(':')[3], 'base64');
    bytes[bytes.length - 1] ^= 1;
    const tampered = `v1:aes256gcm:a:${bytes.toString('base64')}`;
    expect(decodeError(() => sealed.decode(tampered)).message).toMatch(
      /authentication with key "a"/,
    );

    const impostor = codec(`a:${keyB}`);
    expect(decodeError(() => impostor.decode(stored)).keyId).toBe('a');
  });

  it('refuses a relabelled header (authenticated as additional data)', () => {
    const ring = `a:${keyA},b:${keyA}`;
    const stored = codec(ring).encode({ v: 1 });
    const relabelled = stored.replace('v1:aes256gcm:a:', 'v1:aes256gcm:b:');
    expect(decodeError(() => codec(ring).decode(relabelled)).keyId).toBe('b');
  });

  it('refuses a malformed envelope or an unknown codec', () => {
    expect(() => codec().decode('v1:zstd::AAAA')).toThrow(PayloadDecodeError);
    expect(() => codec().decode('v1:broken')).toThrow(PayloadDecodeError);
    expect(() => codec().decode('v1:gzip::bm90Z3ppcA==')).toThrow(PayloadDecodeError);
  });

  it('counts a value as current only when it is encrypted with the first key', () => {
    const withRing = codec(`a:${keyA}`);
    expect(withRing.isCurrent('{"a":1}')).toBe(false);
    expect(withRing.isCurrent(withRing.encode({ a: 1 }))).toBe(true);
    expect(codec().isCurrent(withRing.encode({ a: 1 }))).toBe(false);
  });
});

describe('parseKeyRing', () => {
  it('parses id:base64 pairs in order', () => {
    const ring = parseKeyRing(` a:${keyA} , b:${keyB}`);
    expect(ring.map((k) => k.id)).toEqual(['a', 'b']);
    expect(ring[0].key).toHaveLength(32);
    expect(parseKeyRing(undefined)).toEqual([]);
    expect(parseKeyRing('')).toEqual([]);
  });

  it.each([
    ['short', `k1:${randomBytes(16).toString('base64')}`, 'k1'],
    ['not base64', 'k2:@@@@', 'k2'],
    ['no separator', keyA, '#1'],
    ['bad id', `bad id:${keyA}`, 'bad id'],
    ['duplicate', `k3:${keyA},k3:${keyB}`, 'k3'],
  ])('rejects a %s key, naming its id', (_case, raw, id) => {
    try {
      parseKeyRing(raw);
      throw new Error('expected a failure');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidEncryptionKeyError);
      expect((error as InvalidEncryptionKeyError).keyId).toBe(id);
      expect((error as Error).message).toContain(`"${id}"`);
      expect((error as Error).message).not.toContain(keyA);
    }
  });
});
