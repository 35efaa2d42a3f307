import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Counter, register } from 'prom-client';
import { AuditRepository } from '@app/redis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/** Records waiting for Redis are kept in memory up to this many; beyond, they go to the log. */
export const MAX_BUFFERED_RECORDS = 10_000;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

export const AUDIT_WRITE_FAILURES = 'masa_audit_write_failures_total';

function failuresCounter(): Counter {
  const existing = register.getSingleMetric(AUDIT_WRITE_FAILURES);
  if (existing) return existing as Counter;
  return new Counter({
    name: AUDIT_WRITE_FAILURES,
    help: 'Audit records that could not be appended to Redis at the first attempt (then retried).',
  });
}

interface Pending {
  tenant: string;
  record: string;
}

/**
 * Appends the records no write script covers (refused and failed attempts, reads, no-op writes).
 * Nothing changed in Redis for those, so they need no atomicity, but none may vanish: a failed
 * append is counted (masa_audit_write_failures_total), kept in memory and retried with backoff;
 * records still unsent at shutdown, or beyond the buffer, are written to the log as an error line
 * carrying the whole record, so a log shipper still has them.
 */
@Injectable()
export class AuditWriter implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(AuditWriter.name);
  private readonly failures = failuresCounter();
  private readonly pending: Pending[] = [];
  private timer?: NodeJS.Timeout;
  private delayMs = RETRY_MIN_MS;

  constructor(
    private readonly repository: AuditRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get buffered(): number {
    return this.pending.length;
  }

  async append(tenant: string, record: string): Promise<void> {
    try {
      await this.repository.append(tenant, record);
      this.stdout(record);
    } catch (error) {
      this.failed({ tenant, record }, error);
    }
  }

  /** A record a write script already committed, for AUDIT_STDOUT. */
  committed(record: string): void {
    this.stdout(record);
  }

  /** Sends what is buffered, oldest first; stops at the first failure (Redis still away). */
  async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const next = this.pending[0];
      try {
        await this.repository.append(next.tenant, next.record);
      } catch {
        return;
      }
      this.pending.shift();
      this.stdout(next.record);
    }
    this.delayMs = RETRY_MIN_MS;
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearTimeout(this.timer);
    await this.flush();
    for (const lost of this.pending.splice(0)) this.spill(lost, 'unsent at shutdown');
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
  }

  private failed(item: Pending, error: unknown): void {
    this.failures.inc();
    const reason = error instanceof Error ? error.message : String(error);
    if (this.pending.length >= MAX_BUFFERED_RECORDS) {
      this.spill(item, `buffer full (${reason})`);
      return;
    }
    this.pending.push(item);
    this.logger.warn(`audit append failed, buffered for retry (${this.pending.length}): ${reason}`);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().then(() => {
        if (this.pending.length > 0) {
          this.delayMs = Math.min(this.delayMs * 2, RETRY_MAX_MS);
          this.schedule();
        }
      });
    }, this.delayMs);
    this.timer.unref();
  }

  private spill(item: Pending, why: string): void {
    this.logger.error(`audit record not stored in Redis (${why}): ${item.record}`);
  }

  private stdout(record: string): void {
    if (this.config.audit.stdout) process.stdout.write(`{"audit":${record}}\n`);
  }
}
