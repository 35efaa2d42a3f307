/**
 * Turns stored payloads (session_config, metadata, later memory and cache data) into the string
 * kept in Redis and back. The JSON codec is the base; compression and encryption at rest wrap it.
 */
export abstract class PayloadCodec {
  abstract encode(value: unknown): string;
  abstract decode(stored: string): unknown;

  /** True when `stored` is already in the form a new write would produce (see re-encryption). */
  isCurrent(_stored: string): boolean {
    return true;
  }
}

export class JsonPayloadCodec extends PayloadCodec {
  encode(value: unknown): string {
    return JSON.stringify(value);
  }

  decode(stored: string): unknown {
    return JSON.parse(stored) as unknown;
  }
}

/** Size of a payload as the API measures it: bytes of its JSON text (UTF-8). */
export function jsonByteLength(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
}
