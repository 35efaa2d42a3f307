import { Inject, Injectable } from '@nestjs/common';
import { auditArgs } from '../audit/audit-scope';
import type { RedisClient } from '../connection/redis-client.factory';
import { CACHE_KEY_PATTERN } from '../keys/cache-keyspace';
import { RedisKeyBuilder } from '../keys/redis-key-builder';
import { REDIS_CLIENT } from '../redis.constants';
import { storeCall } from '../store-errors';
import { SubjectRepository, type ErasureTotals } from './subject.repository';
import {
  ERASE_SUBJECT_CACHE,
  ERASE_SUBJECT_SESSIONS,
  FINISH_SUBJECT_ERASURE,
} from './subject.scripts';

/** Sessions one erasure step looks at. */
export const ERASURE_SESSION_STEP = 100;
/**
 * Records (a session, each memory record) one erasure step deletes before it hands back control:
 * like the tag invalidation's 250 entries, a step of a few milliseconds (bench/subjects.ts).
 */
export const ERASURE_RECORD_BUDGET = 250;
/** Cache entries one erasure step looks at (the tag invalidation's step). */
export const ERASURE_CACHE_STEP = 250;
/** An interrupted erasure's running totals are kept this long for the run that finishes it. */
const PROGRESS_TTL_MS = 7 * 24 * 3600 * 1000;

/** The cache tag that marks an entry as held about a user. */
export function subjectTag(userId: string): string | undefined {
  const tag = `user:${userId}`;
  // A user id with characters a tag cannot hold can have no tagged entries.
  return CACHE_KEY_PATTERN.test(tag) ? tag : undefined;
}

@Injectable()
export class RedisSubjectRepository extends SubjectRepository {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    private readonly keys: RedisKeyBuilder,
  ) {
    super();
  }

  async erase(tenant: string, userId: string): Promise<ErasureTotals> {
    const progress = this.keys.subjectErasure(tenant, userId);
    await this.eraseSessions(tenant, userId, progress);
    await this.eraseCache(tenant, userId, progress);
    const audit = auditArgs(this.keys, tenant);
    const [sessions, memory, cache, completedAt] = (await storeCall(() =>
      FINISH_SUBJECT_ERASURE.run(this.redis, [...audit.keys, progress], [audit.record, userId]),
    )) as number[];
    audit.committed();
    return {
      sessionsDeleted: sessions,
      memoryRecordsDeleted: memory,
      cacheEntriesDeleted: cache,
      completedAt,
    };
  }

  private async eraseSessions(tenant: string, userId: string, progress: string): Promise<void> {
    const space = this.keys.sessions(tenant);
    const index = space.byCreator(userId);
    for (;;) {
      const audit = auditArgs(this.keys, tenant);
      const [more, sessions, memory] = (await storeCall(() =>
        ERASE_SUBJECT_SESSIONS.run(
          this.redis,
          [...audit.keys, index, progress],
          [
            audit.record,
            ...space.scriptLayout(),
            ERASURE_SESSION_STEP,
            ERASURE_RECORD_BUDGET,
            PROGRESS_TTL_MS,
          ],
        ),
      )) as number[];
      if (sessions + memory > 0) audit.committed();
      if (more !== 1) return;
    }
  }

  private async eraseCache(tenant: string, userId: string, progress: string): Promise<void> {
    const tag = subjectTag(userId);
    if (tag === undefined) return;
    const space = this.keys.cache(tenant);
    const tagKey = space.tag(tag);
    for (;;) {
      const audit = auditArgs(this.keys, tenant);
      const [looked, ...deleted] = (await storeCall(() =>
        ERASE_SUBJECT_CACHE.run(
          this.redis,
          [...audit.keys, tagKey, progress],
          [audit.record, ...space.scriptLayout(), tag, ERASURE_CACHE_STEP, PROGRESS_TTL_MS],
        ),
      )) as [number, ...string[]];
      if (deleted.length > 0) audit.committed();
      if (looked < ERASURE_CACHE_STEP) return;
    }
  }
}
