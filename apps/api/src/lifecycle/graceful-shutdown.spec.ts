import type { LoggerService } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '../config/app-config';
import { installGracefulShutdown } from './graceful-shutdown';
import { ShutdownState } from './shutdown-state';

const SIGNAL = 'SIGUSR2';
const silent: LoggerService = {
  log: () => undefined,
  error: () => undefined,
  warn: () => undefined,
};
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An application double that records the order of the shutdown steps. */
function fakeApp(steps: string[], listenerClose: () => Promise<void>) {
  const state = new ShutdownState();
  const app = {
    get: () => state,
    getHttpAdapter: () => ({ getInstance: () => ({ close: listenerClose }) }),
    close: () => {
      steps.push('app.close');
      return Promise.resolve();
    },
  } as unknown as NestFastifyApplication;
  return { app, state };
}

const config = (delayMs: number, timeoutMs: number) =>
  ({ shutdown: { delayMs, timeoutMs } }) as AppConfig;

describe('installGracefulShutdown', () => {
  afterEach(() => process.removeAllListeners(SIGNAL));

  it('fails readiness at once, waits the delay, closes the listener, then the app, then exits 0', async () => {
    const steps: string[] = [];
    const { app, state } = fakeApp(steps, () => {
      steps.push('listener.close');
      return Promise.resolve();
    });
    const exits: number[] = [];
    installGracefulShutdown(app, config(150, 5000), silent, {
      exit: (code) => exits.push(code),
      signals: [SIGNAL],
    });

    process.emit(SIGNAL, SIGNAL);
    expect(state.draining).toBe(true);
    await tick(50);
    expect(steps).toEqual([]); // still serving during the delay
    await tick(200);
    expect(steps).toEqual(['listener.close', 'app.close']);
    expect(exits).toEqual([0]);

    process.emit(SIGNAL, SIGNAL); // a second signal starts nothing new
    await tick(200);
    expect(exits).toEqual([0]);
  });

  it('exits 1 when draining outlasts SHUTDOWN_TIMEOUT_MS', async () => {
    const steps: string[] = [];
    const { app } = fakeApp(steps, () => new Promise<void>(() => undefined)); // never drains
    const exits: number[] = [];
    installGracefulShutdown(app, config(0, 1000), silent, {
      exit: (code) => exits.push(code),
      signals: [SIGNAL],
    });

    process.emit(SIGNAL, SIGNAL);
    await tick(500);
    expect(exits).toEqual([]);
    await tick(800);
    expect(exits).toEqual([1]);
    expect(steps).toEqual([]);
  });
});
