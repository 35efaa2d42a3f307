import { Inject, Injectable } from '@nestjs/common';
import { SessionRepository } from '@app/redis';
import {
  PeriodicSweeper,
  purgeInBatches,
  type TenantSweep,
} from '../common/sweeping/periodic-sweeper';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/**
 * Purges expired sessions (and, by cascade, their memory) from every tenant's indexes, and lets a
 * tenant left without data leave the registry.
 */
@Injectable()
export class SessionExpirySweeper extends PeriodicSweeper {
  constructor(
    private readonly sessions: SessionRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  protected intervalMs(): number {
    return this.config.sessions.sweepIntervalMs;
  }

  protected tenants(): AsyncIterable<string[]> {
    return this.sessions.tenants();
  }

  protected async sweepTenant(tenant: string): Promise<TenantSweep> {
    const purged = await purgeInBatches((limit) => this.sessions.purgeExpired(tenant, limit));
    // A tenant whose data is all gone stops costing every sweeper a visit per pass.
    if (!purged.more) await this.sessions.releaseIfEmpty(tenant);
    return purged;
  }
}
