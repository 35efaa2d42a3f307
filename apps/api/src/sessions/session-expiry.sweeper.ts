import { Inject, Injectable } from '@nestjs/common';
import { SessionRepository } from '@app/redis';
import { PeriodicSweeper, purgeInBatches } from '../common/sweeping/periodic-sweeper';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/** Purges expired sessions (and, by cascade, their memory) from every tenant's indexes. */
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

  protected sweepTenant(tenant: string): Promise<number> {
    return purgeInBatches((limit) => this.sessions.purgeExpired(tenant, limit));
  }
}
