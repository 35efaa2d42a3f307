import { Injectable } from '@nestjs/common';
import {
  BackupRepository,
  InvalidBackupRecordError,
  parseBackupRecord,
  PayloadDecodeError,
  type ConflictPolicy,
} from '@app/redis';
import { InvalidRequestError } from '../common/errors/domain-errors';
import { parseJsonBody } from '../common/http/json-body';
import { ndjsonLines } from './ndjson';
import type { ImportResultDto } from './dto/backup.dto';

/** Records read per round trip of an export (one ZRANGE by rank + one pipeline). */
export const EXPORT_BATCH = 250;
/** A line longer than this is refused (a memory record at its size limit, encoded, fits). */
export const MAX_IMPORT_LINE_BYTES = 16 * 1024 * 1024;
/** At most this many errors are listed (the counts stay exact). */
export const MAX_LISTED_ERRORS = 1000;

@Injectable()
export class BackupService {
  constructor(private readonly backups: BackupRepository) {}

  /** The tenant as NDJSON, one chunk per batch: memory holds one batch, never the tenant. */
  async *exportLines(tenant: string, decrypt: boolean): AsyncGenerator<string> {
    for await (const batch of this.backups.export(tenant, { decrypt, batchSize: EXPORT_BATCH })) {
      yield batch.map((record) => `${JSON.stringify(record)}\n`).join('');
    }
  }

  /**
   * Restores line by line, in file order (sessions come before their memory in an export). A bad
   * line is reported with its number and reason; the lines after it are still imported. Each record
   * is written whole or not at all (one script per record).
   */
  async import(
    tenant: string,
    body: AsyncIterable<Buffer | string>,
    conflict: ConflictPolicy,
  ): Promise<ImportResultDto> {
    const result: ImportResultDto = { imported: 0, skipped: 0, failed: 0, errors: [] };
    const failed = (line: number, reason: string) => {
      result.failed++;
      if (result.errors.length < MAX_LISTED_ERRORS) result.errors.push({ line, reason });
    };
    for await (const line of ndjsonLines(body, MAX_IMPORT_LINE_BYTES)) {
      if (line.text === undefined) {
        failed(line.number, `line is longer than ${MAX_IMPORT_LINE_BYTES} bytes`);
        continue;
      }
      let outcome;
      try {
        const record = parseBackupRecord(parseJsonBody(line.text));
        outcome = await this.backups.import(tenant, record, conflict);
      } catch (error) {
        const reason = reasonOf(error);
        if (reason === undefined) throw error;
        failed(line.number, reason);
        continue;
      }
      switch (outcome.kind) {
        case 'imported':
          result.imported++;
          break;
        case 'expired':
          result.skipped++;
          break;
        case 'exists':
          if (conflict === 'skip') result.skipped++;
          else failed(line.number, 'a record with this id already exists (conflict=fail)');
          break;
        case 'session_not_found':
          failed(line.number, 'its session does not exist (import the session line first)');
          break;
      }
    }
    return result;
  }
}

/** Why a line cannot be imported, or undefined for a failure of the store (answered as 503). */
function reasonOf(error: unknown): string | undefined {
  if (error instanceof InvalidBackupRecordError) return error.message;
  if (error instanceof PayloadDecodeError) {
    return `payload cannot be read with this server's keys: ${error.message}`;
  }
  if (error instanceof Error && error.name === 'InvalidCacheKeyError') return error.message;
  // parseJsonBody's refusals (not JSON, prototype poisoning) carry the reason in their detail.
  if (error instanceof InvalidRequestError) {
    return error.problems.map((p) => `${p.field.replace(/^body/, 'line')} ${p.message}`).join('; ');
  }
  return undefined;
}
