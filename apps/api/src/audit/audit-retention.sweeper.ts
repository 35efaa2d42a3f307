import { Inject, Injectable } from '@nestjs/common';
import { AuditRepository } from '@app/redis';
import {
  PeriodicSweeper,
  purgeInBatches,
  type TenantSweep,
} from '../common/sweeping/periodic-sweeper';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

const DAY_MS = 86_400_000;

/**
 * Retention by age, never by count: trims each tenant's stream of records committed more than
 * AUDIT_RETENTION_DAYS ago (XTRIM MINID, bounded per call). Every replica may run it.
 */
@Injectable()
export class AuditRetentionSweeper extends PeriodicSweeper {
  constructor(
    private readonly audit: AuditRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  protected intervalMs(): number {
    return this.config.audit.sweepIntervalMs;
  }

  protected tenants(): AsyncIterable<string[]> {
    return this.audit.tenants();
  }

  protected sweepTenant(tenant: string): Promise<TenantSweep> {
    const cutoff = Date.now() - this.config.audit.retentionDays * DAY_MS;
    // trim has no time budget: it stops early only on its cap.
    return purgeInBatches(async (limit) => {
      const removed = await this.audit.trim(tenant, cutoff, limit);
      return { removed, more: removed >= limit };
    });
  }
}
