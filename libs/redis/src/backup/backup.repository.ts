/**
 * One exported record: a line of the NDJSON backup. Times are epoch milliseconds from Redis'
 * clock; `ttl_remaining_ms` is what was left when the line was read. Payloads are either the
 * stored form (`payload_encoding: 'stored'`: the codec's string as kept in Redis, so values
 * encrypted at rest stay encrypted) or the decoded JSON (`'json'`, export with decrypt).
 */
export type PayloadEncoding = 'stored' | 'json';

export interface SessionBackup {
  type: 'session';
  session_id: string;
  status: string;
  created_by: string;
  created_at: number;
  updated_at: number;
  status_updated_at: number;
  status_updated_by: string;
  expires_at: number;
  ttl_ms: number;
  ttl_remaining_ms: number;
  version: number;
  payload_encoding: PayloadEncoding;
  config: unknown;
  metadata: unknown;
}

export interface MemoryBackup {
  type: 'memory';
  agent_id: string;
  session_id: string;
  memory_id: string;
  memory_type: string;
  created_by: string;
  updated_by: string;
  created_at: number;
  updated_at: number;
  expires_at: number;
  ttl_ms: number;
  ttl_remaining_ms: number;
  version: number;
  payload_encoding: PayloadEncoding;
  /** Top-level field of memory_data -> its value (stored string or decoded JSON). */
  data: Record<string, unknown>;
}

export interface CacheBackup {
  type: 'cache';
  cache_key: string;
  cached_at: number;
  updated_at: number;
  expires_at: number;
  ttl_remaining_ms: number;
  tags: string[];
  payload_encoding: PayloadEncoding;
  data: unknown;
}

export type BackupRecord = SessionBackup | MemoryBackup | CacheBackup;

export type ConflictPolicy = 'skip' | 'overwrite' | 'fail';
export const CONFLICT_POLICIES: readonly ConflictPolicy[] = ['skip', 'overwrite', 'fail'];

export interface ExportOptions {
  /** Decode payloads (decrypt, decompress) instead of exporting them as stored. */
  decrypt: boolean;
  /** Records read per round trip (one ZRANGE by rank + one pipeline). */
  batchSize: number;
}

export type ImportOutcome =
  { kind: 'imported' } | { kind: 'exists' } | { kind: 'expired' } | { kind: 'session_not_found' };

/**
 * Backup and restore of one tenant. Export walks the tenant's sorted-set indexes by rank in
 * bounded batches (never the whole tenant in memory); import writes one record and all of its
 * indexes in one Lua script.
 */
export abstract class BackupRepository {
  /** Sessions, then memory records, then cache entries, one batch at a time. */
  abstract export(tenant: string, options: ExportOptions): AsyncIterable<BackupRecord[]>;

  /**
   * Everything held about one user, one batch at a time: the sessions they created, each followed
   * by its agent memory, then the cache entries tagged `user:<userId>`. Same record shapes as the
   * tenant export (so it can be imported), payloads as the options say.
   */
  abstract exportSubject(
    tenant: string,
    userId: string,
    options: ExportOptions,
  ): AsyncIterable<BackupRecord[]>;

  /** Restores one (already validated) record into `tenant`. */
  abstract import(
    tenant: string,
    record: BackupRecord,
    conflict: ConflictPolicy,
  ): Promise<ImportOutcome>;
}
