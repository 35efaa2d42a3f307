import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { MemoryRepository, SessionRepository } from '@app/redis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

const BATCHES_PER_TENANT = 10;
const BATCH_SIZE = 500;

/**
 * Removes expired memory records from the indexes of tenants nobody is listing (lists clean up
 * lazily on their own). Mirrors SessionExpirySweeper and walks the same tenant registry: memory
 * exists only in tenants that have sessions. Idempotent: every replica may run it.
 */
@Injectable()
export class MemoryExpirySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MemoryExpirySweeper.name);
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly memory: MemoryRepository,
    private readonly sessions: SessionRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const interval = this.config.sessions.sweepIntervalMs;
    if (interval <= 0) return;
    this.timer = setInterval(() => void this.sweep(), interval);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One pass over every tenant; returns how many expired records it cleaned up. */
  async sweep(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let removed = 0;
    try {
      for await (const tenants of this.sessions.tenants()) {
        for (const tenant of tenants) {
          for (let batch = 0; batch < BATCHES_PER_TENANT; batch++) {
            const count = await this.memory.purgeExpired(tenant, BATCH_SIZE);
            removed += count;
            if (count < BATCH_SIZE) break;
          }
        }
      }
    } catch (error) {
      this.logger.warn(
        `memory expiry sweep stopped early: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      this.running = false;
    }
    return removed;
  }
}
