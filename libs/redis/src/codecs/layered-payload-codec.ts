import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PayloadCodec } from '../payload-codec';
import type { EncryptionKey } from './key-ring';
import { PayloadDecodeError } from './payload-decode.error';

export interface PayloadCodecOptions {
  /** JSON texts of at least this many bytes are gzipped before storage (0 = always). */
  compressionMinBytes: number;
  /** Empty: no encryption. Otherwise the first key encrypts new writes; all keys decrypt. */
  encryptionKeys: EncryptionKey[];
}

export const DEFAULT_COMPRESSION_MIN_BYTES = 1024;

const VERSION = 'v1';
const GZIP = 'gzip';
const AES = 'aes256gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * JSON, then gzip above a size threshold, then AES-256-GCM when a key ring is configured.
 *
 * Stored form (why: a value must say how to read it back, so codecs and keys can change while old
 * values stay readable):
 * - plain JSON, unchanged (small values with no key ring; also every value written before codecs);
 * - `v1:<codecs>:<key id>:<base64>` otherwise, `<codecs>` being `gzip`, `aes256gcm` or
 *   `gzip+aes256gcm` and `<key id>` empty when not encrypted. JSON text never starts with `v1:`, so
 *   the two forms cannot be confused.
 * The encrypted payload is IV (12 random bytes) | GCM tag (16) | ciphertext, and the header
 * `v1:<codecs>:<key id>` is authenticated as additional data, so nobody can relabel a value with
 * another key id or strip a codec without failing authentication.
 */
export class LayeredPayloadCodec extends PayloadCodec {
  private readonly keys: Map<string, Buffer>;
  private readonly primary?: EncryptionKey;

  constructor(private readonly options: PayloadCodecOptions) {
    super();
    this.keys = new Map(options.encryptionKeys.map((entry) => [entry.id, entry.key]));
    this.primary = options.encryptionKeys[0];
  }

  get currentKeyId(): string | undefined {
    return this.primary?.id;
  }

  encode(value: unknown): string {
    const json = JSON.stringify(value);
    let body: Buffer = Buffer.from(json, 'utf8');
    const codecs: string[] = [];
    if (body.length >= this.options.compressionMinBytes) {
      const compressed = gzipSync(body);
      // Tiny or incompressible values stay as they are: gzip would only add bytes.
      if (compressed.length < body.length) {
        body = compressed;
        codecs.push(GZIP);
      }
    }
    if (!this.primary) {
      return codecs.length === 0
        ? json
        : `${VERSION}:${codecs.join('+')}::${body.toString('base64')}`;
    }
    codecs.push(AES);
    const header = `${VERSION}:${codecs.join('+')}:${this.primary.id}`;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.primary.key, iv);
    cipher.setAAD(Buffer.from(header, 'utf8'));
    const sealed = Buffer.concat([cipher.update(body), cipher.final()]);
    return `${header}:${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64')}`;
  }

  decode(stored: string): unknown {
    if (!stored.startsWith(`${VERSION}:`))
      return this.parseJson(stored.length > 0 ? stored : 'null');
    const parts = stored.split(':');
    if (parts.length !== 4)
      throw new PayloadDecodeError('stored payload has a malformed codec header');
    const [, codecList, keyId, payload] = parts;
    const codecs = codecList.split('+');
    let body: Buffer = Buffer.from(payload, 'base64');
    if (codecs[codecs.length - 1] === AES) {
      codecs.pop();
      body = this.decrypt(`${VERSION}:${codecList}:${keyId}`, keyId, body);
    } else if (keyId !== '') {
      throw new PayloadDecodeError(
        `stored payload names key "${keyId}" but is not encrypted`,
        keyId,
      );
    }
    if (codecs.length === 1 && codecs[0] === GZIP) {
      try {
        body = gunzipSync(body);
      } catch {
        throw new PayloadDecodeError('stored payload is not valid gzip', keyId || undefined);
      }
    } else if (codecs.length > 0) {
      throw new PayloadDecodeError(
        `stored payload uses an unknown codec "${codecList}"`,
        keyId || undefined,
      );
    }
    return this.parseJson(body.toString('utf8'), keyId || undefined);
  }

  /**
   * True when the stored value is encrypted the way a new write would be (with the current key, or
   * not at all when no key ring is set); re-encryption rewrites the others.
   */
  override isCurrent(stored: string): boolean {
    if (!stored.startsWith(`${VERSION}:`)) return this.primary === undefined;
    const keyId = stored.split(':')[2] ?? '';
    return this.primary === undefined ? keyId === '' : keyId === this.primary.id;
  }

  private decrypt(header: string, keyId: string, body: Buffer): Buffer {
    const key = this.keys.get(keyId);
    if (!key) {
      throw new PayloadDecodeError(
        `stored payload is encrypted with key "${keyId}", which is not in ENCRYPTION_KEYS`,
        keyId,
      );
    }
    if (body.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadDecodeError(
        `stored payload encrypted with key "${keyId}" is truncated`,
        keyId,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(header, 'utf8'));
      decipher.setAuthTag(body.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([
        decipher.update(body.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new PayloadDecodeError(
        `stored payload failed authentication with key "${keyId}" (tampered, or a different key under that id)`,
        keyId,
      );
    }
  }

  private parseJson(text: string, keyId?: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new PayloadDecodeError('stored payload is not valid JSON', keyId);
    }
  }
}
