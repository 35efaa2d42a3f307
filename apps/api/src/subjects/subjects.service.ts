import { Injectable } from '@nestjs/common';
import { BackupRepository, SubjectRepository } from '@app/redis';
import { isoTime } from '../common/http/iso-time';
import type { ErasureReceiptDto } from './dto/erasure-receipt.dto';

/** Records read per round trip of a subject export (one ZRANGE by rank + one pipeline). */
export const SUBJECT_EXPORT_BATCH = 250;

@Injectable()
export class SubjectsService {
  constructor(
    private readonly subjects: SubjectRepository,
    private readonly backups: BackupRepository,
  ) {}

  async erase(tenant: string, userId: string): Promise<ErasureReceiptDto> {
    const totals = await this.subjects.erase(tenant, userId);
    return {
      subject: userId,
      sessions_deleted: totals.sessionsDeleted,
      memory_records_deleted: totals.memoryRecordsDeleted,
      cache_entries_deleted: totals.cacheEntriesDeleted,
      completed_at: isoTime(totals.completedAt),
    };
  }

  /** NDJSON, one chunk per batch: memory holds one batch, never the subject's whole data. */
  async *exportLines(tenant: string, userId: string): AsyncGenerator<string> {
    // Decoded: the export is for the subject (or whoever answers their request), not a restore.
    const options = { decrypt: true, batchSize: SUBJECT_EXPORT_BATCH };
    for await (const batch of this.backups.exportSubject(tenant, userId, options)) {
      yield batch.map((record) => `${JSON.stringify(record)}\n`).join('');
    }
  }
}
