import { AsyncLocalStorage } from 'node:async_hooks';
import type { RedisKeyBuilder } from '../keys/redis-key-builder';

/**
 * The audit record of the request being served, as the HTTP layer prepared it. Repositories never
 * build records: they pass `record()` to their write script, which appends it in the same step as
 * the change (see AUDIT_PRELUDE).
 */
export interface AuditFrame {
  /** The serialized record, built at the moment of the write (its duration_ms runs up to then). */
  record(): string;
  /** How many records write scripts have committed for this request. */
  committed: number;
  /** Told each record a write script committed (e.g. to copy it to a log). */
  onCommit?(record: string): void;
  /** Who makes the request's changes (the token's subject), named in their change events. */
  actor?: string;
}

/** Carries the current request's {@link AuditFrame} through every await down to the repositories. */
export const auditScope = new AsyncLocalStorage<AuditFrame>();

/** What an audited script call takes: the two audit keys first, the record as ARGV[1]. */
export interface AuditArgs {
  keys: [string, string];
  record: string;
  /** Call when the script reports that it changed data (and so appended the record). */
  committed(): void;
}

export function auditArgs(keys: RedisKeyBuilder, tenant: string): AuditArgs {
  const space = keys.audit(tenant);
  const frame = auditScope.getStore();
  const record = frame === undefined ? '' : frame.record();
  return {
    keys: [space.stream, space.head],
    record,
    committed: () => {
      if (!frame) return;
      frame.committed += 1;
      frame.onCommit?.(record);
    },
  };
}
