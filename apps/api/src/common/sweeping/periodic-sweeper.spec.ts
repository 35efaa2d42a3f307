import { PeriodicSweeper } from './periodic-sweeper';

class RecordingSweeper extends PeriodicSweeper {
  readonly swept: string[] = [];
  release?: () => void;

  protected intervalMs(): number {
    return 0;
  }

  protected async *tenants(): AsyncIterable<string[]> {
    yield await Promise.resolve(['a', 'b', 'c']);
  }

  protected async sweepTenant(tenant: string): Promise<number> {
    this.swept.push(tenant);
    // The first tenant blocks until the test lets it go, so shutdown arrives mid-pass.
    if (tenant === 'a') await new Promise<void>((resolve) => (this.release = resolve));
    return 1;
  }
}

describe('PeriodicSweeper shutdown', () => {
  it('waits for the pass in progress, which stops after its current tenant', async () => {
    const sweeper = new RecordingSweeper();
    const pass = sweeper.sweep();
    await new Promise((r) => setImmediate(r));
    expect(sweeper.swept).toEqual(['a']);

    let stopped = false;
    const stopping = sweeper.beforeApplicationShutdown().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
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
});
