import { AuditKeyspace } from './audit-keyspace';
import { ApiKeyKeyspace } from './api-key-keyspace';
import { CacheKeyspace } from './cache-keyspace';

import { MemoryKeyspace } from './memory-keyspace';

/**
 * The one place where Redis key names are made.
 *
 * Every key of a tenant carries the tenant in a hash tag: `<prefix>:{<tenant>}:...`. Redis Cluster
 * hashes only the part inside the braces, so all of a tenant's keys live in one slot and every
 * multi-key write (a record plus its indexes) can be a single MULTI or Lua script on Cluster too.
 * The cost: one tenant cannot outgrow one shard (see docs/architecture).
 */
export const TENANT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export class InvalidKeyPartError extends Error {
  constructor(part: string, value: string) {
    super(`invalid ${part} for a Redis key: ${JSON.stringify(value)}`);
    this.name = 'InvalidKeyPartError';
  }
}

/**
 * Free-form values (creator ids) are percent-encoded so that `:`, braces or spaces inside them can
 * never forge another key's name or move a key out of its tenant's slot.
 */
export function encodeKeyPart(value: string): string {
  return encodeURIComponent(value);
}

/**
 * Key names for one tenant's sessions. Lua scripts receive the same names through
 * {@link SessionKeyspace.scriptLayout}, so the naming rule is written once, here.
 */
export class SessionKeyspace {
  readonly recordPrefix: string;
  /** ZSET id -> created_at_ms: every live session. */
  readonly all: string;
  readonly statusPrefix: string;
  readonly creatorPrefix: string;
  readonly creatorStatusInfix = ':status:';
  /** HASH id -> "<encoded creator>\n<status>": which indexes hold the id (read by clean-up). */
  readonly members: string;
  /** ZSET id -> expires_at_ms: drives expiry clean-up of the indexes. */
  readonly expiry: string;

  constructor(readonly tenantPrefix: string) {
    this.recordPrefix = `${tenantPrefix}session:`;
    this.all = `${tenantPrefix}sessions`;
    this.statusPrefix = `${tenantPrefix}sessions:status:`;
    this.creatorPrefix = `${tenantPrefix}sessions:creator:`;
    this.members = `${tenantPrefix}sessions:members`;
    this.expiry = `${tenantPrefix}sessions:expiry`;
  }

  record(sessionId: string): string {
    return this.recordPrefix + sessionId;
  }

  byStatus(status: string): string {
    return this.statusPrefix + status;
  }

  byCreator(createdBy: string): string {
    return this.creatorPrefix + encodeKeyPart(createdBy);
  }

  byCreatorAndStatus(createdBy: string, status: string): string {
    return this.byCreator(createdBy) + this.creatorStatusInfix + status;
  }

  /** The index that answers a filter combination with one sorted-set range. */
  indexFor(filter: { createdBy?: string; status?: string }): string {
    if (filter.createdBy !== undefined && filter.status !== undefined) {
      return this.byCreatorAndStatus(filter.createdBy, filter.status);
    }
    if (filter.createdBy !== undefined) return this.byCreator(filter.createdBy);
    if (filter.status !== undefined) return this.byStatus(filter.status);
    return this.all;
  }

  /** Order matters: the Lua prelude reads these positions (see session.scripts.ts). */
  scriptLayout(): string[] {
    return [
      this.recordPrefix,
      this.all,
      this.statusPrefix,
      this.creatorPrefix,
      this.creatorStatusInfix,
      this.members,
      this.expiry,
      // Deleting or purging a session cascades to its agent memory in the same script.
      ...new MemoryKeyspace(this.tenantPrefix).scriptLayout(),
    ];
  }
}

export class RedisKeyBuilder {
  constructor(private readonly prefix: string) {
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(prefix)) throw new InvalidKeyPartError('key prefix', prefix);
  }

  tenantPrefix(tenant: string): string {
    if (!TENANT_PATTERN.test(tenant)) throw new InvalidKeyPartError('tenant', tenant);
    return `${this.prefix}:{${tenant}}:`;
  }

  sessions(tenant: string): SessionKeyspace {
    return new SessionKeyspace(this.tenantPrefix(tenant));
  }

  memory(tenant: string): MemoryKeyspace {
    return new MemoryKeyspace(this.tenantPrefix(tenant));
  }

  cache(tenant: string): CacheKeyspace {
    return new CacheKeyspace(this.tenantPrefix(tenant));
  }

  audit(tenant: string): AuditKeyspace {
    return new AuditKeyspace(this.tenantPrefix(tenant));
  }

  /** SCAN pattern matching every tenant-scoped key (offline tools only: never on a request path). */
  tenantKeysPattern(): string {
    return `${this.prefix}:{*}:*`;
  }

  /** The tenant whose hash tag a key carries, or undefined for a key that is not tenant-scoped. */
  tenantOf(key: string): string | undefined {
    const head = `${this.prefix}:{`;
    if (!key.startsWith(head)) return undefined;
    const end = key.indexOf('}:', head.length);
    const tenant = end < 0 ? '' : key.slice(head.length, end);
    return TENANT_PATTERN.test(tenant) ? tenant : undefined;
  }

  apiKeys(tenant: string): ApiKeyKeyspace {
    return new ApiKeyKeyspace(this.tenantPrefix(tenant));
  }

  /**
   * HASH of a data-subject erasure's running totals (sessions, memory, cache), so that a run which
   * was interrupted is finished by the next one with exact totals. Deleted when the receipt is written.
   */
  subjectErasure(tenant: string, userId: string): string {
    return `${this.tenantPrefix(tenant)}subjects:erasure:${encodeKeyPart(userId)}`;
  }

  /** SET of tenants that have stored data, walked by the background expiry sweeper. */
  tenantRegistry(): string {
    return `${this.prefix}:tenants`;
  }

  /**
   * HASH of one minute's (or hour's) request rollup, summed by every replica's flushes. One key per
   * period, so writes move to a new key (and Cluster slot) every period: no global hot key.
   */
  requestRollup(granularity: 'm' | 'h', period: number): string {
    return `${this.prefix}:rollup:{${granularity}${period}}`;
  }

  /** One tenant's usage of one UTC day (`YYYY-MM-DD`): a HASH of counters and an HLL of users. */
  usage(tenant: string, day: string): { counters: string; users: string } {
    const tenantPrefix = this.tenantPrefix(tenant);
    return { counters: `${tenantPrefix}usage:${day}`, users: `${tenantPrefix}usage:${day}:users` };
  }
}
