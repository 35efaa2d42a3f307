import { createHmac, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AUDIT_GENESIS, AuditRepository, type AuditHead, type StoredAuditEntry } from '@app/redis';
import { InvalidRequestError } from '../common/errors/domain-errors';
import { decodeCursor, encodeCursor, queryFingerprint } from '../common/pagination/cursor';
import { DEFAULT_PAGE_SIZE } from '../common/pagination/page-query.dto';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { entryHash, toView, type AuditRecordView } from './audit-record';
import {
  DEFAULT_VERIFY_LIMIT,
  type AuditListQueryDto,
  type AuditRangeQueryDto,
  type AuditVerifyQueryDto,
} from './dto/audit-queries.dto';
import type { AuditBreakDto, AuditPageDto, AuditVerificationDto } from './dto/audit-responses.dto';

/** Stream entries one list page may look at: a filtered page costs at most this, whatever the trail holds. */
export const LIST_SCAN_BUDGET = 2000;
/** Entries fetched per XRANGE call (list, export, verify). */
export const READ_BATCH = 500;

/** The HMAC a seal carries; the key never reaches Redis. */
export function sealMac(key: string, tenant: string, seq: number, hash: string): string {
  return createHmac('sha256', key).update(`${tenant}\n${seq}\n${hash}`).digest('hex');
}

@Injectable()
export class AuditService {
  constructor(
    private readonly repository: AuditRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Newest first. Time bounds narrow the stream range itself (entry ids are commit times); the
   * other filters are applied while walking it, at most LIST_SCAN_BUDGET entries per page. A page
   * that used its budget before filling ends with a cursor where the walk stopped.
   */
  async list(tenant: string, query: AuditListQueryDto): Promise<AuditPageDto> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const fingerprint = queryFingerprint({
      resource_type: query.resource_type,
      resource_id: query.resource_id,
      user_id: query.user_id,
      operation: query.operation,
      success: query.success,
      from: query.from,
      to: query.to,
    });
    const { start, end: rangeEnd } = this.range(query);
    let end = rangeEnd;
    if (query.cursor !== undefined) {
      const { id } = decodeCursor(query.cursor, fingerprint);
      if (!/^\d{1,20}-\d{1,20}$/.test(id)) {
        throw InvalidRequestError.field('cursor', 'is not a cursor returned by this API');
      }
      end = `(${id}`;
    }

    const records: AuditRecordView[] = [];
    let scanned = 0;
    let lastSeen: string | undefined;
    for (;;) {
      const batch = await this.repository.range(
        tenant,
        { start, end },
        Math.min(READ_BATCH, LIST_SCAN_BUDGET - scanned),
        'desc',
      );
      for (const entry of batch) {
        scanned += 1;
        lastSeen = entry.id;
        const view = toView(entry);
        if (!matches(view, query)) continue;
        records.push(view);
        if (records.length === limit) {
          return { audit_records: records, next_cursor: this.cursor(entry, fingerprint) };
        }
      }
      if (batch.length === 0 || lastSeen === undefined) break;
      end = `(${lastSeen}`;
      if (scanned >= LIST_SCAN_BUDGET) {
        const more = await this.repository.range(tenant, { start, end }, 1, 'desc');
        return {
          audit_records: records,
          next_cursor: more.length > 0 ? this.cursor({ id: lastSeen }, fingerprint) : null,
        };
      }
    }
    return { audit_records: records, next_cursor: null };
  }

  /** Oldest first, READ_BATCH entries at a time: memory stays bounded whatever the range holds. */
  async *export(tenant: string, query: AuditRangeQueryDto): AsyncGenerator<AuditRecordView> {
    let { start } = this.range(query);
    const { end } = this.range(query);
    for (;;) {
      const batch = await this.repository.range(tenant, { start, end }, READ_BATCH, 'asc');
      for (const entry of batch) yield toView(entry);
      if (batch.length < READ_BATCH) return;
      start = `(${batch[batch.length - 1].id}`;
    }
  }

  /**
   * Walks the range oldest first and checks, for every record: its hash (recomputed), that `prev`
   * is the previous record's hash and that `seq` follows it. The first record of the range is
   * checked against its predecessor in the stream (or the genesis value for seq 1). A walk reaching
   * the end of the trail also checks the chain head, so deleting the newest records shows; with
   * AUDIT_SEAL_KEY, the seals inside the range are checked too, so a rewritten chain shows.
   */
  async verify(tenant: string, query: AuditVerifyQueryDto): Promise<AuditVerificationDto> {
    const limit = query.limit ?? DEFAULT_VERIFY_LIMIT;
    const range = this.range(query);
    let start = query.after !== undefined ? `(${query.after}` : range.start;
    const { end } = range;
    let previous: StoredAuditEntry | undefined;
    if (start !== '-') {
      const before = `(${start.replace(/^\(/, '')}`;
      const exclusive = start.startsWith('(');
      // The predecessor: the last entry before the range's first one.
      const [prior] = await this.repository.range(
        tenant,
        { start: '-', end: exclusive ? start.slice(1) : before },
        1,
        'desc',
      );
      previous = prior;
    }

    let checked = 0;
    let firstBreak: AuditBreakDto | null = null;
    let last: StoredAuditEntry | undefined;
    let complete = false;
    const hashes = new Map<number, string>();
    walk: for (;;) {
      const count = Math.min(READ_BATCH, limit - checked);
      const batch = await this.repository.range(tenant, { start, end }, count, 'asc');
      for (const entry of batch) {
        checked += 1;
        const reason = brokenLink(previous, entry);
        if (reason) {
          firstBreak = { event_id: entry.id, sequence: entry.seq, reason };
          break walk;
        }
        hashes.set(entry.seq, entry.hash);
        previous = entry;
        last = entry;
      }
      if (batch.length < count) {
        complete = true;
        break;
      }
      if (checked >= limit) {
        const more = await this.repository.range(
          tenant,
          { start: `(${batch[batch.length - 1].id}`, end },
          1,
          'asc',
        );
        complete = more.length === 0;
        break;
      }
      start = `(${batch[batch.length - 1].id}`;
    }

    if (!firstBreak && complete && end === '+') {
      const head = await this.repository.head(tenant);
      const tip = last ?? previous;
      if (head && !(await this.headFollows(tenant, head, tip))) {
        firstBreak = {
          event_id: tip?.id ?? head.id,
          sequence: tip?.seq ?? head.seq,
          reason: 'head_mismatch',
        };
      }
    }

    let sealsChecked = 0;
    const key = this.config.audit.sealKey;
    if (!firstBreak && key && hashes.size > 0) {
      const seqs = [...hashes.keys()];
      const seals = await this.repository.seals(
        tenant,
        Math.min(...seqs),
        Math.max(...seqs),
        READ_BATCH,
      );
      for (const seal of seals) {
        sealsChecked += 1;
        const expected = sealMac(key, tenant, seal.seq, seal.hash);
        const macOk =
          expected.length === seal.mac.length &&
          timingSafeEqual(Buffer.from(expected), Buffer.from(seal.mac));
        if (!macOk || hashes.get(seal.seq) !== seal.hash) {
          firstBreak = { event_id: seal.id, sequence: seal.seq, reason: 'seal_mismatch' };
          break;
        }
      }
    }

    return {
      verified: firstBreak === null,
      records_checked: checked,
      first_break: firstBreak,
      complete: firstBreak !== null || complete,
      next_after: firstBreak === null && !complete && last ? last.id : null,
      seals_checked: sealsChecked,
    };
  }

  /**
   * True when the head is the walk's last record, or a later one: records appended while the walk
   * ran move the head on, which is not tampering as long as they really follow the last record.
   */
  private async headFollows(
    tenant: string,
    head: AuditHead,
    tip: StoredAuditEntry | undefined,
  ): Promise<boolean> {
    if (!tip) return false;
    if (head.seq === tip.seq) return head.hash === tip.hash && head.id === tip.id;
    if (head.seq < tip.seq) return false;
    const [next] = await this.repository.range(tenant, { start: `(${tip.id}`, end: '+' }, 1, 'asc');
    return next !== undefined && next.seq === tip.seq + 1 && next.prev === tip.hash;
  }

  private range(query: AuditRangeQueryDto): { start: string; end: string } {
    const from = query.from === undefined ? undefined : Date.parse(query.from);
    const to = query.to === undefined ? undefined : Date.parse(query.to);
    if (from !== undefined && to !== undefined && from >= to) {
      throw InvalidRequestError.field('to', 'must be after from');
    }
    // Instants before 1970 (`from=0000` is year 0) name no stream id: clamp them to the stream's
    // ends, since an exclusive bound at 0-0 is an error in Redis (a 500 found by fuzzing).
    return {
      start: from === undefined || from <= 0 ? '-' : `${from}-0`,
      // `to` is exclusive: everything committed before that millisecond (nothing, at or before 0).
      end: to === undefined ? '+' : to <= 0 ? '0-0' : `(${to}-0`,
    };
  }

  private cursor(entry: { id: string }, fingerprint: string): string {
    return encodeCursor({ score: Number(entry.id.split('-')[0]), id: entry.id }, fingerprint);
  }
}

function brokenLink(
  previous: StoredAuditEntry | undefined,
  entry: StoredAuditEntry,
): AuditBreakDto['reason'] | null {
  if (entryHash(entry) !== entry.hash) return 'hash_mismatch';
  if (previous === undefined) {
    // Older records may have been trimmed by retention; only the very first has a known prev.
    return entry.seq === 1 && entry.prev !== AUDIT_GENESIS ? 'chain_broken' : null;
  }
  if (entry.prev !== previous.hash) return 'chain_broken';
  if (entry.seq !== previous.seq + 1) return 'sequence_gap';
  return null;
}

function matches(view: AuditRecordView, query: AuditListQueryDto): boolean {
  if (query.resource_type !== undefined && view.resource_type !== query.resource_type) return false;
  if (query.operation !== undefined && view.operation !== query.operation) return false;
  if (query.user_id !== undefined && view.user_id !== query.user_id) return false;
  if (query.success !== undefined && view.success !== (query.success === 'true')) return false;
  if (
    query.resource_id !== undefined &&
    view.resource_id !== query.resource_id &&
    !view.resource_ids.includes(query.resource_id)
  ) {
    return false;
  }
  return true;
}
