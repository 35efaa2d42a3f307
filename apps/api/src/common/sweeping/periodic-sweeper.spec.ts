import { PeriodicSweeper, type TenantSweep } from './periodic-sweeper';

class RecordingSweeper extends PeriodicSweeper {
  readonly swept: string[] = [];
  release?: () => void;
  /** Shares each tenant still needs before its backlog is gone. */
  readonly backlog = new Map<string, number>();
  blockOn?: string;

  protected intervalMs(): number {
    return 0;
  }

  protected async *tenants(): AsyncIterable<string[]> {
    yield await Promise.resolve(['a', 'b', 'c']);
  }

  protected async sweepTenant(tenant: string): Promise<TenantSweep> {
    this.swept.push(tenant);
    // The blocked tenant waits until the test lets it go, so shutdown or a tick arrives mid-pass.
    if (tenant === this.blockOn) {
      await new Promise<void>((resolve) => (this.release = resolve));
    }
    const left = (this.backlog.get(tenant) ?? 1) - 1;
    this.backlog.set(tenant, left);
    return { removed: 1, more: left > 0 };
  }
}

const turn = () => new Promise((r) => setImmediate(r));

describe('PeriodicSweeper shutdown', () => {
  it('waits for the pass in progress, which stops after its current tenant', async () => {
    const sweeper = new RecordingSweeper();
    sweeper.blockOn = 'a';
    const pass = sweeper.sweep();
    await turn();
    expect(sweeper.swept).toEqual(['a']);

    let stopped = false;
    const stopping = sweeper.beforeApplicationShutdown().then(() => (stopped = true));
    await turn();
    expect(stopped).toBe(false); // still waiting for tenant 'a'

    sweeper.release?.();
    await stopping;
    expect(await pass).toBe(1);
    expect(sweeper.swept).toEqual(['a']);
  });

  it('starts no pass once shutdown has begun', async () => {
    const sweeper = new RecordingSweeper();
    await sweeper.beforeApplicationShutdown();
    expect(await sweeper.sweep()).toBe(0);
    expect(sweeper.swept).toEqual([]);
  });

  it('cuts the rest between follow-up passes short on shutdown', async () => {
    const sweeper = new RecordingSweeper();
    sweeper.backlog.set('a', Number.POSITIVE_INFINITY);
    // A pass that took an hour would rest an hour: only shutdown can end this drain.
    jest.spyOn(Date, 'now').mockReturnValueOnce(0).mockReturnValueOnce(3_600_000);
    const drain = sweeper.sweep();
    await turn();
    expect(sweeper.passes).toBe(1);

    await sweeper.beforeApplicationShutdown();
    await drain;
    expect(sweeper.passes).toBe(1);
    jest.restoreAllMocks();
  });
});

describe('PeriodicSweeper drain', () => {
  it('comes back at once for the tenants whose share ran out with work left, and only for them', async () => {
    const sweeper = new RecordingSweeper();
    sweeper.backlog.set('b', 4);

    expect(await sweeper.sweep()).toBe(6);

    // One tick: the full pass, then three follow-ups for 'b' alone until its backlog was gone.
    expect(sweeper.passes).toBe(4);
    expect(sweeper.swept).toEqual(['a', 'b', 'c', 'b', 'b', 'b']);
  });

  it('never runs two passes at once; a tick during a drain makes the next pass a full one', async () => {
    const sweeper = new RecordingSweeper();
    sweeper.backlog.set('a', 3);
    sweeper.blockOn = 'c';
    const drain = sweeper.sweep();
    await turn();
    expect(sweeper.swept).toEqual(['a', 'b', 'c']);

    // The interval fires while the first pass is still on 'c'.
    expect(await sweeper.sweep()).toBe(0);
    expect(sweeper.passes).toBe(1);
    sweeper.blockOn = undefined;
    sweeper.release?.();

    expect(await drain).toBe(3 + 1 + 1 + 1 + 1);
    // The first follow-up went over every tenant (a tick was missed), the second over 'a' alone.
    expect(sweeper.swept).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
    expect(sweeper.passes).toBe(3);
  });
});
