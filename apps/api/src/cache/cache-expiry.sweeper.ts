import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CacheRepository } from '@app/redis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/** Batches one tenant may purge per tick, so one huge backlog cannot starve the others. */
const BATCHES_PER_TENANT = 10;
const BATCH_SIZE = 500;
/** Tag indexes trimmed per sweep call; a tenant's pass resumes at its cursor on the next tick. */
const TAGS_PER_CALL = 100;

/**
 * Removes expired cache entries from the key, expiry and tag indexes of every tenant. Writes and
 * invalidations clean up lazily on their own; this bounds how long an idle tenant keeps dead index
 * members. Idempotent: every replica may run it.
 */
@Injectable()
export class CacheExpirySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(CacheExpirySweeper.name);
  private readonly tagCursors = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly cache: CacheRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const interval = this.config.cache.sweepIntervalMs;
    if (interval <= 0) return;
    this.timer = setInterval(() => void this.sweep(), interval);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One bounded pass over every tenant; returns how many expired index members it removed. */
  async sweep(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let removed = 0;
    try {
      for await (const tenants of this.cache.tenants()) {
        for (const tenant of tenants) {
          for (let batch = 0; batch < BATCHES_PER_TENANT; batch++) {
            const count = await this.cache.purgeExpired(tenant, BATCH_SIZE);
            removed += count;
            if (count < BATCH_SIZE) break;
          }
          let cursor = this.tagCursors.get(tenant) ?? '0';
          for (let batch = 0; batch < BATCHES_PER_TENANT; batch++) {
            const step = await this.cache.sweepTags(tenant, cursor, TAGS_PER_CALL);
            removed += step.removed;
            cursor = step.cursor;
            if (cursor === '0') break;
          }
          if (cursor === '0') this.tagCursors.delete(tenant);
          else this.tagCursors.set(tenant, cursor);
        }
      }
    } catch (error) {
      this.logger.warn(
        `cache expiry sweep stopped early: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      this.running = false;
    }
    return removed;
  }
}
