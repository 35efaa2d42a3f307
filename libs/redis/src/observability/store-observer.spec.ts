import { instrumentRepository, type StoreObserver } from './store-observer';

class Recorder implements StoreObserver {
  readonly calls: string[] = [];
  operation(entity: string, operation: string, seconds: number, error: string | undefined) {
    expect(seconds).toBeGreaterThanOrEqual(0);
    this.calls.push(`op ${entity}.${operation}${error ? ` ${error}` : ''}`);
  }
  batch(entity: string, operation: string, size: number) {
    this.calls.push(`batch ${entity}.${operation} ${size}`);
  }
  lookup(entity: string, operation: string, hits: number, misses: number) {
    this.calls.push(`lookup ${entity}.${operation} ${hits}/${misses}`);
  }
  created(entity: string, count: number) {
    this.calls.push(`created ${entity} ${count}`);
  }
  expired(entity: string, count: number) {
    this.calls.push(`expired ${entity} ${count}`);
  }
}

class Base {
  get(_tenant: string, key: string): Promise<string | null> {
    return Promise.resolve(key === 'hit' ? 'value' : null);
  }
}

class FakeCache extends Base {
  readonly name = 'fake';
  getMany(_tenant: string, keys: string[]): Promise<(string | null)[]> {
    return Promise.resolve(keys.map((key) => (key === 'hit' ? key : null)));
  }
  create(_tenant: string, items: string[]): Promise<number> {
    return Promise.resolve(items.length > 0 ? 1234 : 0);
  }
  purgeExpired(_tenant: string, limit: number): Promise<{ removed: number; more: boolean }> {
    // As a call that stopped on its time budget: fewer than its cap, more to do.
    return Promise.resolve(limit > 0 ? { removed: 20, more: true } : { removed: 0, more: false });
  }
  fail(): Promise<void> {
    return Promise.reject(new TypeError('boom'));
  }
  throwNow(): number {
    throw new RangeError('sync');
  }
  plain(): string {
    return this.name;
  }
  async *tenants(): AsyncIterable<string[]> {
    yield await Promise.resolve(['t']);
  }
}

describe('instrumentRepository', () => {
  it('returns the repository untouched without an observer', () => {
    const repo = new FakeCache();
    expect(instrumentRepository(repo, 'cache', undefined)).toBe(repo);
    expect(Object.keys(repo)).toEqual(['name']);
  });

  it('reports each call, batch sizes, lookups, creates and errors, keeping results and this', async () => {
    const recorder = new Recorder();
    const repo = instrumentRepository(new FakeCache(), 'cache', recorder);
    await expect(repo.get('t', 'hit')).resolves.toBe('value'); // inherited method too
    await expect(repo.getMany('t', ['hit', 'x', 'y'])).resolves.toEqual(['hit', null, null]);
    await expect(repo.create('t', ['a', 'b'])).resolves.toBe(1234);
    await expect(repo.fail()).rejects.toThrow('boom');
    expect(() => repo.throwNow()).toThrow('sync');
    expect(repo.plain()).toBe('fake');
    expect(recorder.calls).toEqual([
      'op cache.get',
      'lookup cache.get 1/0',
      'batch cache.getMany 3',
      'op cache.getMany',
      'lookup cache.getMany 1/2',
      'batch cache.create 2',
      'op cache.create',
      'created cache 2',
      'op cache.fail TypeError',
      'op cache.throwNow RangeError',
    ]);
  });

  it('counts what a purge removed, never its cap, and nothing for an empty purge', async () => {
    const recorder = new Recorder();
    const repo = instrumentRepository(new FakeCache(), 'cache', recorder);
    await expect(repo.purgeExpired('t', 100)).resolves.toEqual({ removed: 20, more: true });
    await expect(repo.purgeExpired('t', 0)).resolves.toEqual({ removed: 0, more: false });
    expect(recorder.calls).toEqual([
      'op cache.purgeExpired',
      'expired cache 20',
      'op cache.purgeExpired',
    ]);
  });

  it('leaves async generators (tenant walks) alone', async () => {
    const recorder = new Recorder();
    const repo = instrumentRepository(new FakeCache(), 'session', recorder);
    const seen: string[][] = [];
    for await (const batch of repo.tenants()) seen.push(batch);
    expect(seen).toEqual([['t']]);
    expect(recorder.calls).toEqual([]);
  });
});
