/**
 * The encryption key ring for stored payloads: `id:base64key,id2:base64key`. New writes use the
 * first key; reads accept every key in the ring, so a key rotates without downtime (add the new key
 * in front, re-encrypt, then drop the old one).
 */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const AES_256_KEY_BYTES = 32;

export class InvalidEncryptionKeyError extends Error {
  constructor(
    readonly keyId: string,
    reason: string,
  ) {
    super(`ENCRYPTION_KEYS: key "${keyId}" ${reason}`);
    this.name = 'InvalidEncryptionKeyError';
  }
}

/** Parses and validates a key ring; every problem names the key id (never the key). */
export function parseKeyRing(raw: string | undefined): EncryptionKey[] {
  if (raw === undefined || raw.trim() === '') return [];
  const ring: EncryptionKey[] = [];
  raw.split(',').forEach((entry, index) => {
    const trimmed = entry.trim();
    const separator = trimmed.indexOf(':');
    const id = separator < 0 ? `#${index + 1}` : trimmed.slice(0, separator);
    if (separator < 0) throw new InvalidEncryptionKeyError(id, 'must be written as id:base64key');
    if (!KEY_ID_PATTERN.test(id)) {
      throw new InvalidEncryptionKeyError(id, `has an invalid id (use ${KEY_ID_PATTERN.source})`);
    }
    if (ring.some((known) => known.id === id))
      throw new InvalidEncryptionKeyError(id, 'is listed twice');
    const encoded = trimmed.slice(separator + 1);
    const key = /^[A-Za-z0-9+/]+={0,2}$/.test(encoded)
      ? Buffer.from(encoded, 'base64')
      : Buffer.alloc(0);
    if (key.length !== AES_256_KEY_BYTES) {
      throw new InvalidEncryptionKeyError(
        id,
        `must be ${AES_256_KEY_BYTES} bytes of base64 (got ${key.length} bytes); make one with ` +
          '`openssl rand -base64 32`',
      );
    }
    ring.push({ id, key });
  });
  return ring;
}
