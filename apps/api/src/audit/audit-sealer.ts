import { Inject, Injectable } from '@nestjs/common';
import { AuditRepository } from '@app/redis';
import { PeriodicSweeper, type TenantSweep } from '../common/sweeping/periodic-sweeper';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { sealMac } from './audit.service';

/**
 * With AUDIT_SEAL_KEY: every AUDIT_SEAL_INTERVAL_MS, seals each tenant's chain head that moved
 * since its last seal (HMAC over tenant, seq, hash, with a key Redis never holds). Somebody who
 * can write to Redis can recompute the hash chain, but not a seal: a rewrite of any sealed record
 * fails verification. Replicas may seal concurrently; a duplicate seal of one head is harmless.
 */
@Injectable()
export class AuditSealer extends PeriodicSweeper {
  constructor(
    private readonly audit: AuditRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  protected intervalMs(): number {
    return this.config.audit.sealKey ? this.config.audit.sealIntervalMs : 0;
  }

  protected tenants(): AsyncIterable<string[]> {
    return this.audit.tenants();
  }

  /** Counts 1 when it sealed the tenant's head; one seal per tenant per pass, never more. */
  protected async sweepTenant(tenant: string): Promise<TenantSweep> {
    const key = this.config.audit.sealKey;
    if (!key) return { removed: 0, more: false };
    const head = await this.audit.head(tenant);
    if (!head) return { removed: 0, more: false };
    const last = await this.audit.lastSeal(tenant);
    if (last && last.seq >= head.seq) return { removed: 0, more: false };
    await this.audit
      .addSeal(tenant, {
        seq: head.seq,
        hash: head.hash,
        mac: sealMac(key, tenant, head.seq, head.hash),
      })
      // Another replica sealed this head first (the seal id is the seq): nothing to do.
      .catch((error: unknown) => {
        if (!(error instanceof Error && /equal or smaller/.test(error.message))) throw error;
      });
    return { removed: 1, more: false };
  }
}
