import { Inject, Injectable } from '@nestjs/common';
import { MemoryRepository, SessionRepository } from '@app/redis';
import {
  PeriodicSweeper,
  purgeInBatches,
  type TenantSweep,
} from '../common/sweeping/periodic-sweeper';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/**
 * Purges expired memory records. Walks the sessions' tenant registry: memory exists only in
 * tenants that have sessions.
 */
@Injectable()
export class MemoryExpirySweeper extends PeriodicSweeper {
  constructor(
    private readonly memory: MemoryRepository,
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

  protected sweepTenant(tenant: string): Promise<TenantSweep> {
    return purgeInBatches((limit) => this.memory.purgeExpired(tenant, limit));
  }
}
