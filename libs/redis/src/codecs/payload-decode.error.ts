/**
 * A stored payload that cannot be turned back into JSON: unknown key id, failed authentication
 * (tampered value or wrong key), or a corrupt envelope. Never answered with garbage data; the API
 * maps it to a 500 and logs the message, which names the key id.
 */
export class PayloadDecodeError extends Error {
  constructor(
    message: string,
    readonly keyId?: string,
  ) {
    super(message);
    this.name = 'PayloadDecodeError';
  }
}
