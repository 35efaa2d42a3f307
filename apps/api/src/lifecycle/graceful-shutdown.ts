import type { LoggerService } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppConfig } from '../config/app-config';
import { ShutdownState } from './shutdown-state';

export interface ShutdownOptions {
  /** Ends the process; a parameter so that a test can watch the outcome. */
  exit?: (code: number) => void;
  signals?: NodeJS.Signals[];
}

/**
 * SIGTERM (or SIGINT) runs, once:
 * 1. readiness fails at once and responses carry `Connection: close`;
 * 2. the API keeps serving for SHUTDOWN_DELAY_MS, so load balancers take it out of rotation;
 * 3. the listener closes and in-flight requests finish (Fastify's close);
 * 4. app.close(): sweepers finish their pass, modules flush in their shutdown hooks, Redis quits;
 * 5. exit 0, or exit 1 if all this has not ended within SHUTDOWN_TIMEOUT_MS.
 */
export function installGracefulShutdown(
  app: NestFastifyApplication,
  config: AppConfig,
  logger: LoggerService,
  options: ShutdownOptions = {},
): void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const state = app.get(ShutdownState);
  let started = false;

  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    const hardStop = setTimeout(() => {
      logger.error(
        `shutdown took longer than ${config.shutdown.timeoutMs} ms: exiting`,
        'Shutdown',
      );
      exit(1);
    }, config.shutdown.timeoutMs);
    hardStop.unref();

    state.begin();
    logger.log(
      `${signal}: readiness now fails; serving ${config.shutdown.delayMs} ms more before closing`,
      'Shutdown',
    );
    await sleep(config.shutdown.delayMs);

    logger.log('closing the listener and draining in-flight requests', 'Shutdown');
    await app.getHttpAdapter().getInstance().close();
    await app.close();
    clearTimeout(hardStop);
    logger.log('shutdown complete', 'Shutdown');
    exit(0);
  };

  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      if (started) return;
      started = true;
      shutdown(signal).catch((error: unknown) => {
        logger.error(
          `shutdown failed: ${error instanceof Error ? error.message : String(error)}`,
          'Shutdown',
        );
        exit(1);
      });
    });
  }
}
