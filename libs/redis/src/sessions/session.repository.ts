import type { PurgeResult } from '../purge-result';

/** A session as stored: times are epoch milliseconds from Redis' clock. */
export interface StoredSession {
  id: string;
  config: Record<string, unknown>;
  metadata: Record<string, unknown>;
  status: string;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  statusUpdatedAt: number;
  statusUpdatedBy: string;
  expiresAt: number;
  version: number;
}

export interface NewSession {
  id: string;
  config: Record<string, unknown>;
  metadata: Record<string, unknown>;
  status: string;
  createdBy: string;
  ttlSeconds: number;
}

export interface SessionChanges {
  config?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  status?: string;
  statusUpdatedBy?: string;
}

/**
 * RFC 7396 merge patches of session_config and metadata (each merged into the stored object), and
 * an optional new status.
 */
export interface SessionMergePatch {
  config?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  status?: string;
  statusUpdatedBy?: string;
}

export interface WriteGuards {
  /** Compare-and-set: write only when the stored version equals this one. */
  expectedVersion?: number;
  /** Upper bound for config + metadata bytes after the change. */
  maxPayloadBytes: number;
}

export type UpdateOutcome =
  | {
      kind: 'updated';
      version: number;
      updatedAt: number;
      expiresAt: number;
      status: string;
      /** The status before this write, and the session's created_at (session duration). */
      previousStatus: string;
      createdAt: number;
    }
  | { kind: 'not_found' }
  | { kind: 'version_mismatch'; currentVersion: number }
  | { kind: 'too_large'; bytes: number }
  /** A merge kept losing to concurrent writers of the same object (bounded retries exhausted). */
  | { kind: 'contended' };

export type DeleteOutcome =
  | {
      kind: 'deleted';
      deletedAt: number;
      deleted: string[];
      missing: string[];
      /** Agent memory records of the deleted sessions, removed in the same atomic step. */
      memoryRecordsDeleted: number;
      /** Status and created_at of each deleted session, aligned with `deleted`. */
      ended: { status: string; createdAt: number }[];
    }
  | { kind: 'version_mismatch'; currentVersion: number };

/** Where a page starts when paging by cursor: just after (score, id) in the chosen order. */
export interface SessionPosition {
  createdAt: number;
  id: string;
}

export interface SessionListQuery {
  createdBy?: string;
  status?: string;
  /** Inclusive bounds on created_at (ms). */
  createdFrom?: number;
  createdUntil?: number;
  order: 'asc' | 'desc';
  limit: number;
  offset: number;
  after?: SessionPosition;
}

export interface SessionPage {
  totalCount: number;
  hasMore: boolean;
  sessions: StoredSession[];
}

/** A create named a session that is already stored; nothing was written. */
export class SessionExistsError extends Error {
  constructor(readonly sessionId: string) {
    super(`session ${sessionId} already exists`);
    this.name = 'SessionExistsError';
  }
}

/**
 * Storage contract for sessions. Bound to the Redis implementation by RedisModule; a test may bind
 * another. Implementations never throw HTTP errors; "Redis is unreachable" is StoreUnavailableError.
 */
export abstract class SessionRepository {
  /**
   * Stores all sessions atomically; returns their common created_at. SessionExistsError (nothing
   * written) when one of the ids is already stored.
   */
  abstract create(tenant: string, sessions: NewSession[]): Promise<number>;
  abstract get(tenant: string, sessionId: string): Promise<StoredSession | null>;
  /**
   * A client's read of one session (GET /sessions/{id}), which may be answered from the in-process
   * L1 when it is on: at most its TTL old, dropped when Redis reports a write of the record, never
   * past the session's expires_at. Writes and CAS never consult it; without an L1 this is `get`.
   */
  abstract getRecent(tenant: string, sessionId: string): Promise<StoredSession | null>;
  /** One round trip; the result is aligned with `sessionIds` (null where absent). */
  abstract getMany(tenant: string, sessionIds: string[]): Promise<(StoredSession | null)[]>;
  abstract update(
    tenant: string,
    sessionId: string,
    changes: SessionChanges,
    guards: WriteGuards,
  ): Promise<UpdateOutcome>;
  /**
   * Merges the patches into the stored objects without losing a concurrent write: the stored
   * values are encoded (compressed, encrypted), so the merge is computed in Node and written by a
   * compare-and-set on the bytes read, retried on conflict.
   */
  abstract mergePatch(
    tenant: string,
    sessionId: string,
    patch: SessionMergePatch,
    guards: WriteGuards,
  ): Promise<UpdateOutcome>;
  abstract delete(
    tenant: string,
    sessionIds: string[],
    expectedVersion?: number,
  ): Promise<DeleteOutcome>;
  abstract list(tenant: string, query: SessionListQuery): Promise<SessionPage>;
  /**
   * Removes expired sessions from the indexes, at most `limit` of work (their memory included);
   * returns how many sessions, and whether expired ones are left.
   */
  abstract purgeExpired(tenant: string, limit: number): Promise<PurgeResult>;
  /** Tenants that have stored sessions (for the background sweeper). */
  abstract tenants(): AsyncIterable<string[]>;
  /** Takes a tenant that holds no data out of the sweepers' registry; true when it left. */
  abstract releaseIfEmpty(tenant: string): Promise<boolean>;
}
