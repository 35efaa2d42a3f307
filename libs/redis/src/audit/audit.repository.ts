/** One audit stream entry as stored (see AUDIT_PRELUDE for how the fields chain). */
export interface StoredAuditEntry {
  /** Stream entry id (`<ms>-<n>`): the record's event id, ordered by commit time. */
  id: string;
  seq: number;
  /** Commit time (Redis clock), ms. */
  ts: number;
  /** The record as the HTTP layer serialized it (JSON). */
  rec: string;
  /** What the write script knew (JSON), or ''. */
  out: string;
  prev: string;
  hash: string;
}

/** The newest record of a tenant's chain. */
export interface AuditHead {
  seq: number;
  hash: string;
  id: string;
}

/** A keyed checkpoint: `mac` is an HMAC over (tenant, seq, hash) with a key Redis never sees. */
export interface AuditSeal {
  id: string;
  seq: number;
  hash: string;
  mac: string;
}

/** Stream id bounds as XRANGE takes them: `-`, `+`, `<id>` (inclusive) or `(<id>` (exclusive). */
export interface AuditRange {
  start: string;
  end: string;
}

/**
 * A tenant's append-only audit trail. Writes that change data append through their own scripts
 * (auditArgs); this contract appends the records no write script covers and reads the trail.
 * There is no way to change or delete a record except age-based retention.
 */
export abstract class AuditRepository {
  /** Appends one record chained to the tenant's head; returns its entry id. */
  abstract append(tenant: string, record: string, out?: string): Promise<string>;

  /** Up to `count` entries in the range, oldest first (`asc`) or newest first (`desc`). */
  abstract range(
    tenant: string,
    range: AuditRange,
    count: number,
    order: 'asc' | 'desc',
  ): Promise<StoredAuditEntry[]>;

  abstract head(tenant: string): Promise<AuditHead | null>;

  /** Removes (about, at most `limit`) records committed before `beforeMs`. */
  abstract trim(tenant: string, beforeMs: number, limit: number): Promise<number>;

  abstract addSeal(tenant: string, seal: Omit<AuditSeal, 'id'>): Promise<void>;

  abstract lastSeal(tenant: string): Promise<AuditSeal | null>;

  /** Seals whose sequence lies in [fromSeq, toSeq], at most `count`, oldest first. */
  abstract seals(
    tenant: string,
    fromSeq: number,
    toSeq: number,
    count: number,
  ): Promise<AuditSeal[]>;

  /** Tenants that have audit records (walked by the retention sweeper and the sealer). */
  abstract tenants(): AsyncIterable<string[]>;
}
