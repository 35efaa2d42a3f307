/**
 * Key names for one tenant's audit trail. They share the tenant's hash tag, so a change and its
 * audit record are written by one script on Redis Cluster too.
 *
 * ```
 * <tenant prefix>audit         STREAM  one entry per record: seq, ts, rec, out, prev, hash
 * <tenant prefix>audit:head    HASH    seq, hash, id of the newest record (the chain's head)
 * <tenant prefix>audit:seals   STREAM  keyed checkpoints: seq, hash, id, mac (HMAC, key not in Redis)
 * ```
 */
export class AuditKeyspace {
  readonly stream: string;
  readonly head: string;
  readonly seals: string;

  constructor(readonly tenantPrefix: string) {
    this.stream = `${tenantPrefix}audit`;
    this.head = `${tenantPrefix}audit:head`;
    this.seals = `${tenantPrefix}audit:seals`;
  }
}
