import { createHash } from 'node:crypto';
import type { StoredAuditEntry } from '@app/redis';

/** What the HTTP layer writes into an entry's `rec` (snake_case, like the API). */
export interface AuditRecordBody {
  operation: string;
  resource_type: string;
  resource_id: string | null;
  user_id: string | null;
  tenant: string;
  roles: string[];
  request_id: string;
  method: string;
  route: string;
  ip_address: string | null;
  user_agent: string | null;
  request_data: unknown;
  response_data?: unknown;
  success: boolean;
  status_code: number;
  error: string | null;
  duration_ms: number;
  trace_id: string | null;
}

/** One record as GET /audit returns it. */
export interface AuditRecordView extends AuditRecordBody {
  event_id: string;
  sequence: number;
  timestamp: string;
  resource_ids: string[];
  response_data: unknown;
  /** True when the record was appended by the write script itself, atomically with the change. */
  committed_with_change: boolean;
  prev_hash: string;
  hash: string;
}

/** The trace id of a W3C `traceparent` header (its second field), or null. */
export function traceIdOf(traceparent: string | string[] | undefined): string | null {
  const value = Array.isArray(traceparent) ? traceparent[0] : traceparent;
  const match = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(value?.trim() ?? '');
  if (!match || /^0+$/.test(match[1])) return null;
  return match[1];
}

/** The chain rule of AUDIT_PRELUDE, recomputed outside Redis. */
export function entryHash(entry: Pick<StoredAuditEntry, 'prev' | 'seq' | 'ts' | 'rec' | 'out'>) {
  return createHash('sha1')
    .update(`${entry.prev}\n${entry.seq}\n${entry.ts}\n${entry.rec}\n${entry.out}`)
    .digest('hex');
}

function parse(json: string): Record<string, unknown> | null {
  if (json === '') return null;
  try {
    const value = JSON.parse(json) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** Merges what Node recorded (`rec`) with what the write script recorded (`out`). */
export function toView(entry: StoredAuditEntry): AuditRecordView {
  const rec = (parse(entry.rec) ?? {}) as Partial<AuditRecordBody>;
  const out = parse(entry.out);
  const fromScript = Array.isArray(out?.resource_ids) ? (out.resource_ids as unknown[]) : [];
  const resourceIds =
    fromScript.length > 0 ? fromScript.map(String) : rec.resource_id ? [rec.resource_id] : [];
  let responseData: unknown = rec.response_data ?? null;
  if (out) {
    const rest: Record<string, unknown> = { ...out };
    delete rest.resource_ids;
    responseData = rest;
  }
  return {
    event_id: entry.id,
    sequence: entry.seq,
    timestamp: new Date(entry.ts).toISOString(),
    operation: rec.operation ?? 'unknown',
    resource_type: rec.resource_type ?? 'unknown',
    resource_id: rec.resource_id ?? (resourceIds.length === 1 ? resourceIds[0] : null),
    resource_ids: resourceIds,
    user_id: rec.user_id ?? null,
    tenant: rec.tenant ?? '',
    roles: rec.roles ?? [],
    request_id: rec.request_id ?? '',
    method: rec.method ?? '',
    route: rec.route ?? '',
    ip_address: rec.ip_address ?? null,
    user_agent: rec.user_agent ?? null,
    request_data: rec.request_data ?? null,
    response_data: responseData,
    success: rec.success ?? false,
    status_code: rec.status_code ?? 0,
    error: rec.error ?? null,
    duration_ms: rec.duration_ms ?? 0,
    trace_id: rec.trace_id ?? null,
    committed_with_change: out !== null,
    prev_hash: entry.prev,
    hash: entry.hash,
  };
}
