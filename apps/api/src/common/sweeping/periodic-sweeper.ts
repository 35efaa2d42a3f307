import type { PurgeResult } from '@app/redis';
import {
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';

/** Batches one tenant may purge per pass, so one huge backlog cannot starve the others. */
export const BATCHES_PER_TENANT = 50;
/**
 * Work per script call (records removed, a session's memory included): small enough that one call
 * stays in single-digit milliseconds (bench:slowlog), so Redis serves other clients in between.
 */
export const BATCH_SIZE = 100;
/**
 * Share of wall time a draining sweeper may spend in passes: after a pass that left work, it rests
 * at least (1 - DUTY) / DUTY times as long as the pass took before the next, so a 1M backlog drains
 * in minutes instead of hours while request traffic keeps at least half of the sweeper's time.
 */
export const DRAIN_DUTY_CYCLE = 0.5;

/** What one tenant's share of a pass did. */
export interface TenantSweep {
  removed: number;
  /** The share ran out with work left: the sweeper comes back for this tenant soon. */
  more: boolean;
}

/**
 * Calls a bounded purge until it reports nothing left or the tenant's share of this pass is used;
 * adds up what each call really removed (a call that stopped on its time budget removed fewer than
 * its cap).
 */
export async function purgeInBatches(
  purge: (limit: number) => Promise<PurgeResult>,
): Promise<TenantSweep> {
  let removed = 0;
  for (let batch = 0; batch < BATCHES_PER_TENANT; batch++) {
    const step = await purge(BATCH_SIZE);
    removed += step.removed;
    if (!step.more) return { removed, more: false };
  }
  return { removed, more: true };
}

async function* listed(tenants: string[]): AsyncIterable<string[]> {
  yield await Promise.resolve(tenants);
}

/**
 * Background clean-up of expired index entries for tenants nobody is reading (reads and lists
 * clean up lazily on their own; this bounds how long an idle tenant keeps dead entries).
 * Idempotent, so every replica may run it; one pass at a time per process; an outage ends the pass
 * early and the next tick tries again.
 *
 * A tick starts a full pass over every tenant. While any tenant's share ran out with work left, a
 * follow-up pass over just those tenants runs after a rest (DRAIN_DUTY_CYCLE) instead of waiting a
 * whole interval; a tick that comes meanwhile makes the next follow-up a full pass again, so other
 * tenants are not kept waiting behind one backlog. On shutdown the rest is cut short, the pass in
 * progress stops after its current tenant and is awaited, before Redis is closed
 * (onApplicationShutdown comes after this hook).
 */
export abstract class PeriodicSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(this.constructor.name);
  private timer?: NodeJS.Timeout;
  private running = false;
  private stopping = false;
  private tickMissed = false;
  private drain?: Promise<number>;
  private wake?: () => void;
  private passCount = 0;

  /** Milliseconds between passes; 0 turns the sweeper off. */
  protected abstract intervalMs(): number;
  protected abstract tenants(): AsyncIterable<string[]>;
  /** Bounded work for one tenant: what it removed, and whether it left work for a follow-up. */
  protected abstract sweepTenant(tenant: string): Promise<TenantSweep>;

  /** Passes run since start, follow-ups included. */
  get passes(): number {
    return this.passCount;
  }

  onApplicationBootstrap(): void {
    const interval = this.intervalMs();
    if (interval <= 0) return;
    this.timer = setInterval(() => void this.sweep(), interval);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    this.wake?.();
    await this.drain;
  }

  /**
   * One tick: a pass over every tenant, then follow-ups until no tenant has work left; returns how
   * many expired entries they removed. A tick while a drain runs only marks the next pass full.
   */
  sweep(): Promise<number> {
    if (this.stopping) return Promise.resolve(0);
    if (this.running) {
      this.tickMissed = true;
      return Promise.resolve(0);
    }
    this.running = true;
    this.drain = this.drainAll().finally(() => (this.running = false));
    return this.drain;
  }

  private async drainAll(): Promise<number> {
    let removed = 0;
    let tenants = this.tenants();
    for (;;) {
      const started = Date.now();
      const pass = await this.pass(tenants);
      removed += pass.removed;
      if (this.stopping || pass.backlog.length === 0) return removed;
      await this.rest(((Date.now() - started) * (1 - DRAIN_DUTY_CYCLE)) / DRAIN_DUTY_CYCLE);
      if (this.stopping) return removed;
      tenants = this.tickMissed ? this.tenants() : listed(pass.backlog);
      this.tickMissed = false;
    }
  }

  private async pass(
    tenants: AsyncIterable<string[]>,
  ): Promise<{ removed: number; backlog: string[] }> {
    this.passCount++;
    let removed = 0;
    const backlog: string[] = [];
    try {
      for await (const batch of tenants) {
        for (const tenant of batch) {
          if (this.stopping) return { removed, backlog };
          const share = await this.sweepTenant(tenant);
          removed += share.removed;
          if (share.more) backlog.push(tenant);
        }
      }
    } catch (error) {
      this.logger.warn(
        `sweep stopped early: ${error instanceof Error ? error.message : String(error)}`,
      );
      // An outage: the next tick tries again, no follow-up meanwhile.
      return { removed, backlog: [] };
    }
    return { removed, backlog };
  }

  private rest(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
