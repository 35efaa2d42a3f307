/**
 * API keys of one tenant:
 * ```
 * <t>apikey:<id>   HASH  name, secret_hash, roles, scopes, created_by, created_at, expires_at
 * <t>apikeys       ZSET  id -> created_at_ms  (the tenant's keys, for listing)
 * ```
 * The key id is generated (16 hex digits), never taken from a client, so it is safe in a name.
 */
export class ApiKeyKeyspace {
  readonly recordPrefix: string;
  readonly index: string;

  constructor(readonly tenantPrefix: string) {
    this.recordPrefix = `${tenantPrefix}apikey:`;
    this.index = `${tenantPrefix}apikeys`;
  }

  record(id: string): string {
    return this.recordPrefix + id;
  }
}
