import type { MemoryType } from '../keys/memory-keyspace';
import type { PurgeResult } from '../purge-result';

/** A memory record as stored: times are epoch milliseconds from Redis' clock. */
export interface StoredMemory {
  memoryId: string;
  agentId: string;
  sessionId: string;
  memoryType: MemoryType;
  data: Record<string, unknown>;
  createdBy: string;
  updatedBy: string;
  createdAt: number;
  updatedAt: number;
  /**
   * When the record disappears: its own expiry or its session's, whichever comes first (a record
   * never outlives its session).
   */
  expiresAt: number;
  version: number;
}

export interface NewMemory {
  memoryId: string;
  agentId: string;
  sessionId: string;
  memoryType: MemoryType;
  data: Record<string, unknown>;
  createdBy: string;
  ttlSeconds: number;
}

export type CreateMemoryOutcome =
  | { kind: 'created'; createdAt: number; expiresAt: number }
  | { kind: 'session_not_found' }
  | { kind: 'exists'; memoryId: string };

/** PUT: given parts replace the stored ones. */
export interface MemoryReplacement {
  data?: Record<string, unknown>;
  memoryType?: MemoryType;
  updatedBy?: string;
}

export interface MemoryWriteGuards {
  expectedVersion?: number;
  /** Upper bound for the bytes of memory_data's JSON after the write. */
  maxDataBytes: number;
}

export type MemoryWriteOutcome =
  | { kind: 'updated'; memoryId: string; version: number; updatedAt: number; expiresAt: number }
  | { kind: 'not_found' }
  | { kind: 'version_mismatch'; currentVersion: number }
  | { kind: 'too_large'; bytes: number }
  /** A merge of nested objects kept losing to concurrent writers (bounded retries exhausted). */
  | { kind: 'contended' };

export type MemoryDeleteOutcome =
  | { kind: 'deleted'; deletedAt: number; existed: boolean }
  | { kind: 'version_mismatch'; currentVersion: number };

export interface AgentMemoryQuery {
  memoryType?: MemoryType;
  /** Inclusive lower bound on created_at (ms). */
  createdFrom?: number;
  limit: number;
  offset: number;
  /** Page after this (created_at, session_id), newest first. */
  after?: { createdAt: number; sessionId: string };
}

export interface MemoryPage {
  totalCount: number;
  hasMore: boolean;
  records: StoredMemory[];
}

/**
 * Cross-agent query. At least one of agentIds / sessionIds. `viewer` is the agent id of an
 * agent-only caller: it then sees its own records plus `shared` records of sessions where it has
 * memory itself.
 */
export interface CrossAgentQuery {
  agentIds: string[];
  sessionIds: string[];
  memoryType?: MemoryType;
  limit: number;
  /** Skip this many (newest first); ignored when `after` is given. */
  offset?: number;
  /** Page after this record (the previous page's last), in the order newest, agent, session. */
  after?: MemoryPosition;
  viewer?: string;
  /** The one session in sessionIds must exist; otherwise the result says sessionMissing. */
  requireSession?: boolean;
}

export interface MemoryPosition {
  createdAt: number;
  agentId: string;
  sessionId: string;
}

export interface MemoryQueryResult {
  totalCount: number;
  hasMore: boolean;
  records: StoredMemory[];
  /** Set when requireSession was asked and the session does not exist (deleted or expired). */
  sessionMissing?: true;
  /**
   * Set (to the limit) when a viewer named no sessions and has memory in more sessions than one
   * query may walk: the caller must name them.
   */
  scopeTooBroad?: number;
}

/**
 * Storage contract for agent memory: one record per (agent, session). Bound to the Redis
 * implementation by RedisModule. Never throws HTTP errors; "Redis is unreachable" is
 * StoreUnavailableError.
 */
export abstract class MemoryRepository {
  abstract create(
    tenant: string,
    memory: NewMemory,
    maxDataBytes: number,
  ): Promise<CreateMemoryOutcome>;
  abstract get(tenant: string, agentId: string, sessionId: string): Promise<StoredMemory | null>;
  abstract replace(
    tenant: string,
    agentId: string,
    sessionId: string,
    changes: MemoryReplacement,
    guards: MemoryWriteGuards,
  ): Promise<MemoryWriteOutcome>;
  /**
   * RFC 7396 merge of `patch` into memory_data, atomic in Redis (see docs/architecture/memory.md);
   * `memoryType`, when given, replaces the record's type in the same step.
   */
  abstract mergePatch(
    tenant: string,
    agentId: string,
    sessionId: string,
    patch: Record<string, unknown>,
    updatedBy: string | undefined,
    guards: MemoryWriteGuards,
    memoryType?: MemoryType,
  ): Promise<MemoryWriteOutcome>;
  abstract delete(
    tenant: string,
    agentId: string,
    sessionId: string,
    expectedVersion?: number,
  ): Promise<MemoryDeleteOutcome>;
  abstract listByAgent(
    tenant: string,
    agentId: string,
    query: AgentMemoryQuery,
  ): Promise<MemoryPage>;
  abstract query(tenant: string, query: CrossAgentQuery): Promise<MemoryQueryResult>;
  /** Removes expired records from the indexes, at most `limit`; returns how many, and whether more wait. */
  abstract purgeExpired(tenant: string, limit: number): Promise<PurgeResult>;
}
