import { Inject, Injectable } from '@nestjs/common';
import { CacheRepository } from '@app/redis';
import {
  BATCHES_PER_TENANT,
  PeriodicSweeper,
  purgeInBatches,
  type TenantSweep,
} from '../common/sweeping/periodic-sweeper';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/** Tag indexes trimmed per sweep call; a tenant's pass resumes at its cursor on the next tick. */
const TAGS_PER_CALL = 100;

/** Purges expired cache entries from the key, expiry and tag indexes of every tenant. */
@Injectable()
export class CacheExpirySweeper extends PeriodicSweeper {
  private readonly tagCursors = new Map<string, string>();

  constructor(
    private readonly cache: CacheRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  protected intervalMs(): number {
    return this.config.cache.sweepIntervalMs;
  }

  protected tenants(): AsyncIterable<string[]> {
    return this.cache.tenants();
  }

  protected async sweepTenant(tenant: string): Promise<TenantSweep> {
    const purged = await purgeInBatches((limit) => this.cache.purgeExpired(tenant, limit));
    let removed = purged.removed;
    let cursor = this.tagCursors.get(tenant) ?? '0';
    for (let batch = 0; batch < BATCHES_PER_TENANT; batch++) {
      const step = await this.cache.sweepTags(tenant, cursor, TAGS_PER_CALL);
      removed += step.removed;
      cursor = step.cursor;
      if (cursor === '0') break;
    }
    if (cursor === '0') this.tagCursors.delete(tenant);
    else this.tagCursors.set(tenant, cursor);
    return { removed, more: purged.more || cursor !== '0' };
  }
}
