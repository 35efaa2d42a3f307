import {
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';

/** Batches one tenant may purge per tick, so one huge backlog cannot starve the others. */
export const BATCHES_PER_TENANT = 50;
/**
 * Work per script call (records removed, a session's memory included): small enough that one call
 * stays in single-digit milliseconds (bench:slowlog), so Redis serves other clients in between.
 */
export const BATCH_SIZE = 100;

/** Calls a bounded purge until it comes back short or the tenant's share of this tick is used. */
export async function purgeInBatches(purge: (limit: number) => Promise<number>): Promise<number> {
  let removed = 0;
  for (let batch = 0; batch < BATCHES_PER_TENANT; batch++) {
    const count = await purge(BATCH_SIZE);
    removed += count;
    if (count < BATCH_SIZE) break;
  }
  return removed;
}

/**
 * Background clean-up of expired index entries for tenants nobody is reading (reads and lists
 * clean up lazily on their own; this bounds how long an idle tenant keeps dead entries).
 * Idempotent, so every replica may run it; one pass at a time per process; an outage ends the pass
 * early and the next tick tries again. On shutdown the pass in progress stops after its current
 * tenant and is awaited, before Redis is closed (onApplicationShutdown comes after this hook).
 */
export abstract class PeriodicSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(this.constructor.name);
  private timer?: NodeJS.Timeout;
  private running = false;
  private stopping = false;
  private pass?: Promise<number>;

  /** Milliseconds between passes; 0 turns the sweeper off. */
  protected abstract intervalMs(): number;
  protected abstract tenants(): AsyncIterable<string[]>;
  /** Bounded work for one tenant; returns how many expired entries it removed. */
  protected abstract sweepTenant(tenant: string): Promise<number>;

  onApplicationBootstrap(): void {
    const interval = this.intervalMs();
    if (interval <= 0) return;
    this.timer = setInterval(() => void this.sweep(), interval);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.pass;
  }

  /** One pass over every tenant; returns how many expired entries it removed. */
  sweep(): Promise<number> {
    if (this.running || this.stopping) return Promise.resolve(0);
    this.pass = this.run();
    return this.pass;
  }

  private async run(): Promise<number> {
    this.running = true;
    let removed = 0;
    try {
      for await (const tenants of this.tenants()) {
        for (const tenant of tenants) {
          if (this.stopping) return removed;
          removed += await this.sweepTenant(tenant);
        }
      }
    } catch (error) {
      this.logger.warn(
        `sweep stopped early: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      this.running = false;
    }
    return removed;
  }
}
