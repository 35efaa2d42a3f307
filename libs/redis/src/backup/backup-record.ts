import { CACHE_KEY_PATTERN } from '../keys/cache-keyspace';
import { AGENT_ID_PATTERN, MEMORY_TYPE_PATTERN } from '../keys/memory-keyspace';
import type { BackupRecord, PayloadEncoding } from './backup.repository';

/** A backup line that cannot be restored; `message` says which field and why. */
export class InvalidBackupRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidBackupRecordError';
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STATUS = /^[a-z][a-z0-9_-]{0,31}$/;
const MAX_TEXT = 256;

type Obj = Record<string, unknown>;

function fail(field: string, rule: string): never {
  throw new InvalidBackupRecordError(`${field} ${rule}`);
}

function text(o: Obj, field: string, pattern?: RegExp): string {
  const value = o[field];
  if (typeof value !== 'string' || value === '' || value.length > MAX_TEXT) {
    fail(field, `must be a non-empty string of at most ${MAX_TEXT} characters`);
  }
  if (pattern && !pattern.test(value)) fail(field, `must match ${String(pattern)}`);
  return value;
}

function time(o: Obj, field: string, min = 0): number {
  const value = o[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    fail(field, `must be an integer >= ${min}`);
  }
  return value;
}

function encoding(o: Obj): PayloadEncoding {
  const value = o.payload_encoding;
  if (value !== 'stored' && value !== 'json')
    fail('payload_encoding', "must be 'stored' or 'json'");
  return value;
}

/** A payload: the stored string, or with 'json' a JSON object (sessions) / any JSON value. */
function payload(
  o: Obj,
  field: string,
  enc: PayloadEncoding,
  object: boolean,
  label = field,
): unknown {
  const value = o[field];
  if (enc === 'stored') {
    if (typeof value !== 'string')
      fail(field, "must be the stored string (payload_encoding 'stored')");
  } else if (value === undefined || (object && (typeof value !== 'object' || value === null))) {
    fail(label, object ? 'must be a JSON object' : 'must be present');
  }
  return value;
}

/**
 * Checks a parsed backup line and returns it typed. Every name that becomes part of a Redis key is
 * checked against the API's own rules, so a crafted file cannot write outside the caller's tenant
 * or forge another key.
 */
export function parseBackupRecord(value: unknown): BackupRecord {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidBackupRecordError('line must be a JSON object');
  }
  const o = value as Obj;
  switch (o.type) {
    case 'session': {
      const enc = encoding(o);
      return {
        type: 'session',
        session_id: text(o, 'session_id', UUID),
        status: text(o, 'status', STATUS),
        created_by: text(o, 'created_by'),
        created_at: time(o, 'created_at'),
        updated_at: time(o, 'updated_at'),
        status_updated_at: time(o, 'status_updated_at'),
        status_updated_by: text(o, 'status_updated_by'),
        expires_at: time(o, 'expires_at'),
        ttl_ms: time(o, 'ttl_ms', 1),
        ttl_remaining_ms: time(o, 'ttl_remaining_ms'),
        version: time(o, 'version', 1),
        payload_encoding: enc,
        config: payload(o, 'config', enc, true),
        metadata: payload(o, 'metadata', enc, true),
      };
    }
    case 'memory': {
      const enc = encoding(o);
      const data = o.data;
      if (data === null || typeof data !== 'object' || Array.isArray(data)) {
        fail('data', 'must be an object of memory_data fields');
      }
      for (const field of Object.keys(data))
        payload(data as Obj, field, enc, false, `data.${field}`);
      return {
        type: 'memory',
        agent_id: text(o, 'agent_id', AGENT_ID_PATTERN),
        session_id: text(o, 'session_id', UUID),
        memory_id: text(o, 'memory_id'),
        memory_type: text(o, 'memory_type', MEMORY_TYPE_PATTERN),
        created_by: text(o, 'created_by'),
        updated_by: text(o, 'updated_by'),
        created_at: time(o, 'created_at'),
        updated_at: time(o, 'updated_at'),
        expires_at: time(o, 'expires_at'),
        ttl_ms: time(o, 'ttl_ms', 1),
        ttl_remaining_ms: time(o, 'ttl_remaining_ms'),
        version: time(o, 'version', 1),
        payload_encoding: enc,
        data: data as Obj,
      };
    }
    case 'cache': {
      const enc = encoding(o);
      const tags = o.tags;
      if (
        !Array.isArray(tags) ||
        tags.length > 64 ||
        !tags.every((tag) => typeof tag === 'string' && CACHE_KEY_PATTERN.test(tag))
      ) {
        fail('tags', `must be an array of at most 64 tags matching ${String(CACHE_KEY_PATTERN)}`);
      }
      return {
        type: 'cache',
        cache_key: text(o, 'cache_key', CACHE_KEY_PATTERN),
        cached_at: time(o, 'cached_at'),
        updated_at: time(o, 'updated_at'),
        expires_at: time(o, 'expires_at'),
        ttl_remaining_ms: time(o, 'ttl_remaining_ms'),
        tags: tags as string[],
        payload_encoding: enc,
        data: payload(o, 'data', enc, false),
      };
    }
    default:
      throw new InvalidBackupRecordError("type must be 'session', 'memory' or 'cache'");
  }
}
