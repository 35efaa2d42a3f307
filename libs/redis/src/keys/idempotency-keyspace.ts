import { createHash } from 'node:crypto';

/**
 * Idempotency records of one tenant: `<tenant prefix>idem:<sha256(scope, key)>` (STRING, 24 h).
 * Scope and key are hashed so any header value maps to a short, inert key name in the tenant's slot.
 */
export class IdempotencyKeyspace {
  constructor(readonly tenantPrefix: string) {}

  record(scope: string, key: string): string {
    const digest = createHash('sha256').update(scope).update('\n').update(key).digest('base64url');
    return `${this.tenantPrefix}idem:${digest}`;
  }
}
