import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { installGracefulShutdown } from './lifecycle/graceful-shutdown';
import { boundHeapGrowth } from './lifecycle/heap-growth';
import { createApp } from './app.factory';
import { ConfigError, loadConfig } from './config/load-config';
import { assertPortAvailable, portErrorOf } from './common/http/port-check';

async function main(): Promise<void> {
  boundHeapGrowth();
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Configuration error, not starting:\n${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const { port, host } = config.http;
  try {
    await assertPortAvailable(port, host);
    const app = await createApp(config);
    installGracefulShutdown(app, config, new Logger());
    await app.listen(port, host);
  } catch (error) {
    const portError = portErrorOf(error, port, host);
    if (!portError) throw error;
    process.stderr.write(`Not starting: ${portError.message}\n`);
    process.exit(1);
  }
  new Logger('Bootstrap').log(
    `listening on ${config.http.tls ? 'https' : 'http'}://${config.http.host}:${config.http.port} (APP_ENV=${config.env})`,
  );
}

void main();
