import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { SessionRepository } from '@app/redis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/** Batches one tenant may purge per tick, so one huge backlog cannot starve the others. */
const BATCHES_PER_TENANT = 10;
const BATCH_SIZE = 500;

/**
 * Removes expired sessions from the indexes of tenants nobody is listing. Lists clean up lazily on
 * their own, so this only bounds how long an idle tenant keeps dead index entries. Idempotent:
 * every replica may run it.
 */
@Injectable()
export class SessionExpirySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SessionExpirySweeper.name);
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
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

  /** One pass over every tenant; returns how many expired sessions it cleaned up. */
  async sweep(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let removed = 0;
    try {
      for await (const tenants of this.sessions.tenants()) {
        for (const tenant of tenants) {
          for (let batch = 0; batch < BATCHES_PER_TENANT; batch++) {
            const count = await this.sessions.purgeExpired(tenant, BATCH_SIZE);
            removed += count;
            if (count < BATCH_SIZE) break;
          }
        }
      }
    } catch (error) {
      this.logger.warn(
        `expiry sweep stopped early: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      this.running = false;
    }
    return removed;
  }
}
