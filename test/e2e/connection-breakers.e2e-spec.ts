import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { register } from 'prom-client';
import { REDIS_CLIENT } from '@app/redis/redis.constants';
import { breakerOf } from '@app/redis/connection/breaker-gate';
import { SESSION_L1, type SessionL1 } from '@app/redis/sessions/session-l1';
import type { RedisClient } from '@app/redis/connection/redis-client.factory';
import { eventually } from '../support/eventually';
import { RedisServer } from '../support/redis-server';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * How the application wires a breaker on the session L1 reader (SESSION_L1_CACHE): its own
 * state, its own log lines and its own `client="session_l1"` metric series, while the main
 * client's series keep the unlabelled form alerts and dashboards read.
 * (Behaviour under kill -STOP: test/integration/connection-breakers.int-spec.ts.)
 */
describe('circuit breaker on the session L1 reader, as the app wires it', () => {
  let redis: RedisServer;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    t = await startTestApp(redis.url, {
      SESSION_L1_CACHE: 'true',
      REDIS_COMMAND_TIMEOUT_MS: '300',
      REDIS_BREAKER_FAILURES: '2',
      REDIS_BREAKER_PROBE_INTERVAL_MS: '50',
      REDIS_BREAKER_PROBE_TIMEOUT_MS: '100',
    });
  });

  afterAll(async () => {
    redis.resume();
    await t?.close();
    await redis.dispose();
  });

  it('opens and closes on its own, logged and exported with client="session_l1"', async () => {
    const l1 = t.app.get<SessionL1>(SESSION_L1, { strict: false });
    await eventually(() => expect(l1.active).toBe(true));
    const reader = (l1 as unknown as { reader: Redis }).reader;
    const breaker = breakerOf(reader)!;
    expect(breaker).toBeDefined();
    expect(breaker).not.toBe(breakerOf(t.app.get<RedisClient>(REDIS_CLIENT, { strict: false })));

    const lines: string[] = [];
    const warn = jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation((message: unknown) => void lines.push(String(message)));
    try {
      redis.pause();
      // One at a time: with REDIS_AUTO_PIPELINING commands of one tick share one outcome.
      for (let i = 0; i < 5 && breaker.state !== 'open'; i++)
        await reader.get('a').catch(() => null);
      expect(breaker.state).toBe('open');
      const open = await register.metrics();
      expect(open).toMatch(/^masa_redis_breaker_state\{client="session_l1"\} 2$/m);
      expect(open).toMatch(
        /^masa_redis_breaker_transitions_total\{from="closed",to="open",client="session_l1"\} 1$/m,
      );
      expect(
        lines.some((line) => line.startsWith('circuit breaker (session_l1 connection) open')),
      ).toBe(true);

      redis.resume();
      await eventually(() => expect(breaker.state).toBe('half_open'), 5000);
      await reader.get('a');
      expect(breaker.state).toBe('closed');
      expect(await register.metrics()).toMatch(
        /^masa_redis_breaker_state\{client="session_l1"\} 0$/m,
      );
    } finally {
      redis.resume();
      warn.mockRestore();
    }
  }, 30_000);
});
