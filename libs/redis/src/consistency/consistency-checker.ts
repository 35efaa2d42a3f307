import { primaries, type RedisClient } from '../connection/redis-client.factory';
import { storePipeline } from '../store-errors';
import { TenantRegistry } from '../tenant-registry';
import { MemoryKeyspace } from '../keys/memory-keyspace';
import { encodeKeyPart, type RedisKeyBuilder } from '../keys/redis-key-builder';

/**
 * Reads one tenant's keys and checks every rule the write scripts promise to keep:
 * every index entry points to a live record, every live record is in exactly its indexes with the
 * right score, membership and expiry entries agree with the record, and memory never outlives its
 * session. It never writes (an operator runs it against production).
 *
 * An entry whose expiry has passed (within `graceMs` of the check's start) is "pending": Redis
 * dropped the record on time and the purge that removes its index entries runs before every list and
 * in the sweepers. Lists never show pending entries, so they are counted, not reported.
 */
export interface ConsistencyViolation {
  tenant: string;
  rule: string;
  key: string;
  member?: string;
  detail: string;
}

export interface TenantConsistency {
  tenant: string;
  sessions: number;
  memory_records: number;
  cache_entries: number;
  pending_expiry: number;
  violations: ConsistencyViolation[];
}

export interface ConsistencyCheckOptions {
  /** Entries due within this margin of the check's start count as pending, not as violations. */
  graceMs?: number;
  /** Stop collecting after this many violations per tenant (a broken tenant can hold millions). */
  maxViolations?: number;
}

const BATCH = 500;

export class ConsistencyChecker {
  private readonly graceMs: number;
  private readonly maxViolations: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeyBuilder,
    options: ConsistencyCheckOptions = {},
  ) {
    this.graceMs = options.graceMs ?? 2000;
    this.maxViolations = options.maxViolations ?? 1000;
  }

  /** Tenants that hold data: the registry plus any tenant found by a keyspace scan of the prefix. */
  async tenants(): Promise<string[]> {
    const found = new Set<string>();
    for await (const batch of new TenantRegistry(this.redis, this.keys).list()) {
      for (const tenant of batch) if (tenant) found.add(tenant);
    }
    for await (const key of this.scan(this.keys.tenantKeysPattern())) {
      const tenant = this.keys.tenantOf(key);
      if (tenant !== undefined) found.add(tenant);
    }
    return [...found].sort();
  }

  async checkTenant(tenant: string): Promise<TenantConsistency> {
    // Redis' clock, carried forward by ours: a check takes a while, and a record that expires while
    // it runs is gone by the time its index entry is read. Judging it by the start time would call
    // that a ghost.
    const redisStart = await this.redisNow();
    const localStart = Date.now();
    const dueBy = () => redisStart + (Date.now() - localStart) + this.graceMs;
    const report = new TenantReport(tenant, dueBy, this.maxViolations);
    await this.checkSessions(report);
    await this.checkMemory(report);
    await this.checkCache(report);
    return report.result();
  }

  // ---------------------------------------------------------------- sessions

  private async checkSessions(report: TenantReport): Promise<void> {
    const space = this.keys.sessions(report.tenant);
    // Forward: every id in the all-index is a live record in exactly its indexes.
    for await (const batch of this.zscan(space.all)) {
      const pipeline = this.redis.pipeline();
      for (const [id] of batch) {
        pipeline.hmget(space.record(id), 'created_by', 'status', 'created_at', 'expires_at');
        pipeline.hget(space.members, id);
        pipeline.zscore(space.expiry, id);
      }
      const replies = await storePipeline(pipeline);
      for (let i = 0; i < batch.length; i++) {
        const [id, allScore] = batch[i];
        const [createdBy, status, createdAt, expiresAt] = replies[i * 3] as (string | null)[];
        const membership = replies[i * 3 + 1] as string | null;
        const expiry = replies[i * 3 + 2] as string | null;
        if (createdBy === null) {
          if (expiry !== null && report.isDue(expiry)) report.pending++;
          else
            report.violation(
              'session-index-without-record',
              space.all,
              id,
              'no record and not due to expire',
            );
          continue;
        }
        if (status === null || createdAt === null || expiresAt === null) {
          report.violation(
            'session-record-incomplete',
            space.record(id),
            id,
            'status, created_at or expires_at missing',
          );
          continue;
        }
        if (report.isDue(expiresAt)) {
          report.pending++;
          continue;
        }
        report.sessions++;
        const creatorKey = encodeKeyPart(createdBy);
        if (membership !== `${creatorKey}\n${status}`) {
          report.violation(
            'session-membership',
            space.members,
            id,
            `holds ${JSON.stringify(membership)}, record says ${creatorKey}/${status}`,
          );
        }
        if (allScore !== createdAt) {
          report.violation(
            'session-index-score',
            space.all,
            id,
            `score ${allScore} != created_at ${createdAt}`,
          );
        }
        if (expiry !== expiresAt) {
          report.violation(
            'session-expiry-entry',
            space.expiry,
            id,
            `score ${expiry} != expires_at ${expiresAt}`,
          );
        }
        const expected = [
          space.byStatus(status),
          space.byCreator(createdBy),
          space.byCreatorAndStatus(createdBy, status),
        ];
        const scores = await storePipeline(
          expected.reduce((p, key) => p.zscore(key, id), this.redis.pipeline()),
        );
        expected.forEach((key, k) => {
          if (scores[k] !== createdAt)
            report.violation('session-missing-from-index', key, id, `score ${String(scores[k])}`);
        });
      }
    }
    // Backward: membership and expiry entries name ids of the all-index; filtered indexes hold only
    // ids whose membership matches the index's creator/status.
    await this.eachHashEntry(space.members, async (entries) => {
      const scores = await storePipeline(
        entries.reduce((p, [id]) => p.zscore(space.all, id), this.redis.pipeline()),
      );
      entries.forEach(([id], i) => {
        if (scores[i] === null)
          report.violation(
            'session-membership-without-index',
            space.members,
            id,
            'not in the all-index',
          );
      });
    });
    await this.eachSortedSetEntry(space.expiry, async (entries) => {
      const members = await storePipeline(
        entries.reduce((p, [id]) => p.hexists(space.members, id), this.redis.pipeline()),
      );
      entries.forEach(([id, score], i) => {
        if (members[i] === 0 && !report.isDue(score))
          report.violation('session-expiry-without-membership', space.expiry, id, 'not a member');
      });
    });
    for await (const key of this.scan(`${space.statusPrefix}*`)) {
      const status = key.slice(space.statusPrefix.length);
      await this.checkFilteredIndex(
        report,
        key,
        space.members,
        (m) => m !== null && m.endsWith(`\n${status}`),
      );
    }
    for await (const key of this.scan(`${space.creatorPrefix}*`)) {
      const rest = key.slice(space.creatorPrefix.length);
      const infix = rest.indexOf(space.creatorStatusInfix);
      const creator = infix < 0 ? rest : rest.slice(0, infix);
      const status = infix < 0 ? undefined : rest.slice(infix + space.creatorStatusInfix.length);
      await this.checkFilteredIndex(report, key, space.members, (m) =>
        status === undefined
          ? m !== null && m.startsWith(`${creator}\n`)
          : m === `${creator}\n${status}`,
      );
    }
    for await (const key of this.scan(`${space.recordPrefix}*`)) {
      const id = key.slice(space.recordPrefix.length);
      const [inAll, expiresAt] = await storePipeline(
        this.redis.pipeline().zscore(space.all, id).hget(key, 'expires_at'),
      );
      if (inAll === null && !(typeof expiresAt === 'string' && report.isDue(expiresAt))) {
        report.violation(
          'session-record-without-index',
          key,
          id,
          'live record missing from the all-index',
        );
      }
    }
  }

  /** Each member of a filtered index must have a membership entry that `matches` the index. */
  private async checkFilteredIndex(
    report: TenantReport,
    index: string,
    membersKey: string,
    matches: (membership: string | null) => boolean,
  ): Promise<void> {
    await this.eachSortedSetEntry(index, async (entries) => {
      const members = await storePipeline(
        entries.reduce((p, [id]) => p.hget(membersKey, id), this.redis.pipeline()),
      );
      entries.forEach(([id], i) => {
        const membership = members[i] as string | null;
        if (!matches(membership)) {
          report.violation(
            'stale-index-entry',
            index,
            id,
            `membership is ${JSON.stringify(membership)}`,
          );
        }
      });
    });
  }

  // ---------------------------------------------------------------- memory

  private async checkMemory(report: TenantReport): Promise<void> {
    const m = this.keys.memory(report.tenant);
    const sessions = this.keys.sessions(report.tenant);
    await this.eachHashEntry(m.members, async (entries) => {
      const pipeline = this.redis.pipeline();
      for (const [member] of entries) {
        const { sessionId } = MemoryKeyspace.parseMember(member);
        pipeline.hmget(
          `${m.recordPrefix}${member}`,
          'memory_type',
          'created_at',
          'expires_at',
          'session_id',
        );
        pipeline.zscore(m.expiry, member);
        pipeline.hget(sessions.record(sessionId), 'expires_at');
        pipeline.zscore(sessions.expiry, sessionId);
      }
      const replies = await storePipeline(pipeline);
      for (let i = 0; i < entries.length; i++) {
        const [member, mtype] = entries[i];
        const [recordType, createdAt, expiresAt, sessionId] = replies[i * 4] as (string | null)[];
        const expiry = replies[i * 4 + 1] as string | null;
        const sessionExpiresAt = replies[i * 4 + 2] as string | null;
        const sessionExpiry = replies[i * 4 + 3] as string | null;
        if (recordType === null || createdAt === null || expiresAt === null) {
          if (expiry !== null && report.isDue(expiry)) report.pending++;
          else
            report.violation(
              'memory-membership-without-record',
              m.members,
              member,
              'no record and not due to expire',
            );
          continue;
        }
        // A session that expired takes its memory with it in the purge that follows.
        const sessionDue =
          sessionExpiresAt === null && sessionExpiry !== null && report.isDue(sessionExpiry);
        if (report.isDue(expiresAt) || sessionDue) {
          report.pending++;
          continue;
        }
        report.memoryRecords++;
        const { agentId } = MemoryKeyspace.parseMember(member);
        const agentKey = encodeKeyPart(agentId);
        if (recordType !== mtype)
          report.violation(
            'memory-membership',
            m.members,
            member,
            `type ${mtype} != record ${recordType}`,
          );
        if (expiry !== expiresAt)
          report.violation(
            'memory-expiry-entry',
            m.expiry,
            member,
            `score ${expiry} != expires_at ${expiresAt}`,
          );
        if (sessionExpiresAt === null) {
          report.violation(
            'memory-outlives-session',
            m.members,
            member,
            'its session does not exist',
          );
        }
        const sid = sessionId ?? '';
        const expected: [string, string][] = [
          [m.byAgent(agentId), sid],
          [`${m.agentPrefix}${agentKey}${m.typeInfix}${recordType}`, sid],
          [m.bySession(sid), agentKey],
          [`${m.sessionPrefix}${sid}${m.typeInfix}${recordType}`, agentKey],
        ];
        const scores = await storePipeline(
          expected.reduce((p, [key, id]) => p.zscore(key, id), this.redis.pipeline()),
        );
        expected.forEach(([key, id], k) => {
          if (scores[k] !== createdAt)
            report.violation('memory-missing-from-index', key, id, `score ${String(scores[k])}`);
        });
      }
    });
    // Backward: every index entry of an agent or a session names a membership entry.
    for await (const key of this.scan(`${m.agentPrefix}*`)) {
      const rest = key.slice(m.agentPrefix.length);
      const infix = rest.indexOf(m.typeInfix);
      const agent = infix < 0 ? rest : rest.slice(0, infix);
      const type = infix < 0 ? undefined : rest.slice(infix + m.typeInfix.length);
      await this.checkMemoryIndex(
        report,
        key,
        m.members,
        type,
        (sessionId) => `${agent}:${sessionId}`,
      );
    }
    for await (const key of this.scan(`${m.sessionPrefix}*`)) {
      const rest = key.slice(m.sessionPrefix.length);
      const infix = rest.indexOf(m.typeInfix);
      const session = infix < 0 ? rest : rest.slice(0, infix);
      const type = infix < 0 ? undefined : rest.slice(infix + m.typeInfix.length);
      await this.checkMemoryIndex(report, key, m.members, type, (agent) => `${agent}:${session}`);
    }
    await this.eachSortedSetEntry(m.expiry, async (entries) => {
      const members = await storePipeline(
        entries.reduce((p, [member]) => p.hexists(m.members, member), this.redis.pipeline()),
      );
      entries.forEach(([member, score], i) => {
        if (members[i] === 0 && !report.isDue(score))
          report.violation('memory-expiry-without-membership', m.expiry, member, 'not a member');
      });
    });
    for await (const key of this.scan(`${m.recordPrefix}*`)) {
      const member = key.slice(m.recordPrefix.length);
      const [known, expiresAt] = await storePipeline(
        this.redis.pipeline().hexists(m.members, member).hget(key, 'expires_at'),
      );
      if (known === 0 && !(typeof expiresAt === 'string' && report.isDue(expiresAt))) {
        report.violation(
          'memory-record-without-membership',
          key,
          member,
          'live record is not a member',
        );
      }
    }
  }

  private async checkMemoryIndex(
    report: TenantReport,
    index: string,
    membersKey: string,
    type: string | undefined,
    memberOf: (entry: string) => string,
  ): Promise<void> {
    await this.eachSortedSetEntry(index, async (entries) => {
      const types = await storePipeline(
        entries.reduce((p, [entry]) => p.hget(membersKey, memberOf(entry)), this.redis.pipeline()),
      );
      entries.forEach(([entry], i) => {
        const actual = types[i] as string | null;
        if (actual === null || (type !== undefined && actual !== type)) {
          report.violation(
            'stale-index-entry',
            index,
            entry,
            `membership type is ${JSON.stringify(actual)}`,
          );
        }
      });
    });
  }

  // ---------------------------------------------------------------- cache

  private async checkCache(report: TenantReport): Promise<void> {
    const c = this.keys.cache(report.tenant);
    for await (const batch of this.zscan(c.index)) {
      const pipeline = this.redis.pipeline();
      for (const [key] of batch) {
        pipeline.hmget(c.entryPrefix + key, 'expires_at', 'tags');
        pipeline.zscore(c.expiry, key);
      }
      const replies = await storePipeline(pipeline);
      for (let i = 0; i < batch.length; i++) {
        const [key] = batch[i];
        const [expiresAt, tags] = replies[i * 2] as (string | null)[];
        const expiry = replies[i * 2 + 1] as string | null;
        if (expiresAt === null) {
          if (expiry !== null && report.isDue(expiry)) report.pending++;
          else
            report.violation(
              'cache-index-without-entry',
              c.index,
              key,
              'no entry and not due to expire',
            );
          continue;
        }
        if (report.isDue(expiresAt)) {
          report.pending++;
          continue;
        }
        report.cacheEntries++;
        if (expiry !== expiresAt)
          report.violation(
            'cache-expiry-entry',
            c.expiry,
            key,
            `score ${expiry} != expires_at ${expiresAt}`,
          );
        const tagList = (tags ?? '').split(',').filter(Boolean);
        if (tagList.length === 0) continue;
        const pipe = this.redis.pipeline();
        for (const tag of tagList)
          pipe.zscore(c.tagPrefix + tag, key).sismember(c.tagRegistry, tag);
        const tagReplies = await storePipeline(pipe);
        tagList.forEach((tag, t) => {
          if (tagReplies[t * 2] !== expiresAt)
            report.violation(
              'cache-missing-from-tag',
              c.tagPrefix + tag,
              key,
              `score ${String(tagReplies[t * 2])}`,
            );
          if (tagReplies[t * 2 + 1] !== 1)
            report.violation(
              'cache-tag-unregistered',
              c.tagRegistry,
              tag,
              'tag of a live entry is not registered',
            );
        });
      }
    }
    for await (const tagKey of this.scan(`${c.tagPrefix}*`)) {
      const tag = tagKey.slice(c.tagPrefix.length);
      await this.eachSortedSetEntry(tagKey, async (entries) => {
        const tagsOf = await storePipeline(
          entries.reduce((p, [key]) => p.hget(c.entryPrefix + key, 'tags'), this.redis.pipeline()),
        );
        entries.forEach(([key, score], i) => {
          const tags = (tagsOf[i] as string | null)?.split(',') ?? null;
          if (report.isDue(score)) return;
          if (tags === null || !tags.includes(tag))
            report.violation(
              'stale-tag-entry',
              tagKey,
              key,
              `entry tags are ${JSON.stringify(tags)}`,
            );
        });
      });
    }
    await this.eachSortedSetEntry(c.expiry, async (entries) => {
      const indexed = await storePipeline(
        entries.reduce((p, [key]) => p.zscore(c.index, key), this.redis.pipeline()),
      );
      entries.forEach(([key, score], i) => {
        if (indexed[i] === null && !report.isDue(score))
          report.violation('cache-expiry-without-index', c.expiry, key, 'not in the key index');
      });
    });
    for await (const entryKey of this.scan(`${c.entryPrefix}*`)) {
      const key = entryKey.slice(c.entryPrefix.length);
      const [indexed, expiresAt] = await storePipeline(
        this.redis.pipeline().zscore(c.index, key).hget(entryKey, 'expires_at'),
      );
      if (indexed === null && !(typeof expiresAt === 'string' && report.isDue(expiresAt))) {
        report.violation(
          'cache-entry-without-index',
          entryKey,
          key,
          'live entry missing from the key index',
        );
      }
    }
  }

  // ---------------------------------------------------------------- iteration

  private async redisNow(): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  private async *zscan(key: string): AsyncIterable<[string, string][]> {
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.zscan(key, cursor, 'COUNT', BATCH);
      cursor = next;
      if (flat.length > 0) yield pairs(flat);
    } while (cursor !== '0');
  }

  private async eachSortedSetEntry(
    key: string,
    visit: (entries: [string, string][]) => Promise<void>,
  ): Promise<void> {
    for await (const batch of this.zscan(key)) await visit(batch);
  }

  private async eachHashEntry(
    key: string,
    visit: (entries: [string, string][]) => Promise<void>,
  ): Promise<void> {
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(key, cursor, 'COUNT', BATCH);
      cursor = next;
      if (flat.length > 0) await visit(pairs(flat));
    } while (cursor !== '0');
  }

  /** SCAN of keys by pattern; on Cluster, of every master (a tenant's keys sit on one of them). */
  private async *scan(pattern: string): AsyncIterable<string> {
    for (const node of primaries(this.redis)) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', BATCH);
        cursor = next;
        for (const key of keys) yield key;
      } while (cursor !== '0');
    }
  }
}

class TenantReport {
  sessions = 0;
  memoryRecords = 0;
  cacheEntries = 0;
  pending = 0;
  private readonly violations: ConsistencyViolation[] = [];

  constructor(
    readonly tenant: string,
    private readonly dueBy: () => number,
    private readonly maxViolations: number,
  ) {}

  isDue(expiresAtMs: string): boolean {
    return Number(expiresAtMs) <= this.dueBy();
  }

  violation(rule: string, key: string, member: string | undefined, detail: string): void {
    if (this.violations.length < this.maxViolations) {
      this.violations.push({ tenant: this.tenant, rule, key, member, detail });
    }
  }

  result(): TenantConsistency {
    return {
      tenant: this.tenant,
      sessions: this.sessions,
      memory_records: this.memoryRecords,
      cache_entries: this.cacheEntries,
      pending_expiry: this.pending,
      violations: this.violations,
    };
  }
}

function pairs(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}
