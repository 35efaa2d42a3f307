/** The real API (JWT, RBAC, rate limiting, validation, logging) for bench/http.ts. */
import { createApp } from '../../apps/api/src/app.factory';
import { loadConfig } from '../../apps/api/src/config/load-config';

async function main(): Promise<void> {
  const app = await createApp(loadConfig());
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  process.send?.('ready');
}

void main();
