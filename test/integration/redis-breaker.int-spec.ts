import Redis from 'ioredis';
import { attachBreaker, BreakerOpenError } from '@app/redis/connection/breaker-gate';
import type { CircuitBreaker } from '@app/redis/connection/circuit-breaker';
import { createRedisClient, type RedisClient } from '@app/redis/connection/redis-client.factory';
import { eventually } from '../support/eventually';
import { RedisServer } from '../support/redis-server';

/**
 * The breaker's gate on a real client and server: what it lets through is sent whole (pipelines
 * and MULTI included), what it refuses never reaches Redis, and only "no answer" counts.
 */
describe('circuit breaker gate on a real Redis', () => {
  let server: RedisServer;
  let raw: Redis;
  let client: RedisClient;
  let breaker: CircuitBreaker;

  beforeAll(async () => {
    server = await RedisServer.start();
    raw = new Redis(server.port, '127.0.0.1');
  });

  afterAll(async () => {
    server.resume();
    raw.disconnect();
    await server.dispose();
  });

  beforeEach(async () => {
    server.resume();
    await raw.flushall();
    client = createRedisClient({ url: server.url, commandTimeoutMs: 300, connectTimeoutMs: 1000 });
    await new Promise((resolve) => client.once('ready', resolve));
    breaker = attachBreaker(client, {
      failureThreshold: 2,
      windowMs: 10_000,
      probeIntervalMs: 50,
      probeTimeoutMs: 100,
    });
  });

  afterEach(() => {
    server.resume();
    client.disconnect();
  });

  async function openByHanging(): Promise<void> {
    server.pause();
    await Promise.allSettled([client.get('a'), client.get('b')]);
    expect(breaker.state).toBe('open');
  }

  it('never opens on error replies, however many', async () => {
    await raw.set('text', 'x');
    for (let i = 0; i < 10; i++) {
      await expect(client.lpush('text', 'y')).rejects.toThrow(/WRONGTYPE/);
    }
    expect(breaker.state).toBe('closed');
  });

  it('refuses a MULTI whole while open, and sends it whole as the half-open trial', async () => {
    await openByHanging();
    await expect(client.multi().set('x', '1').set('y', '2').exec()).rejects.toBeInstanceOf(
      BreakerOpenError,
    );

    server.resume();
    await eventually(() => expect(breaker.state).toBe('half_open'), 5000);
    expect(await raw.mget('x', 'y')).toEqual([null, null]);

    const applied = await client.multi().set('x', '1').set('y', '2').exec();
    expect(applied?.map(([error]) => error)).toEqual([null, null]);
    expect(breaker.state).toBe('closed');
    expect(await raw.mget('x', 'y')).toEqual(['1', '2']);
  });

  it('lets one trial through when half-open and refuses the rest at once, unsent', async () => {
    await openByHanging();
    server.resume();
    await eventually(() => expect(breaker.state).toBe('half_open'), 5000);

    const [trial, other] = await Promise.allSettled([client.set('t', '1'), client.set('u', '1')]);
    expect(trial).toMatchObject({ status: 'fulfilled', value: 'OK' });
    expect(other.status).toBe('rejected');
    expect((other as PromiseRejectedResult).reason).toBeInstanceOf(BreakerOpenError);
    expect(await raw.exists('u')).toBe(0);
    expect(breaker.state).toBe('closed');
  });

  it('opens again when the trial is not answered', async () => {
    await openByHanging();
    server.resume();
    await eventually(() => expect(breaker.state).toBe('half_open'), 5000);
    server.pause();
    await expect(client.get('a')).rejects.toThrow(/timed out/);
    expect(breaker.state).toBe('open');
    await expect(client.get('a')).rejects.toBeInstanceOf(BreakerOpenError);
  });
});
