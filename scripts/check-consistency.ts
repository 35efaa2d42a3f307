/**
 * Checks that every index in Redis agrees with the records it points to (see ConsistencyChecker).
 * Read-only: safe against production. Connects like the API does, through REDIS_URL and
 * REDIS_KEY_PREFIX.
 *
 *   npm run check:consistency                       every tenant that holds data
 *   npm run check:consistency -- --tenant acme      one tenant (repeatable)
 *   npm run check:consistency -- --json             one JSON document on stdout
 *
 * Exit status: 0 consistent, 1 violations found, 2 usage or connection error.
 */
import { parseArgs } from 'node:util';
import {
  ConsistencyChecker,
  type TenantConsistency,
} from '../libs/redis/src/consistency/consistency-checker';
import { createRedisClient } from '../libs/redis/src/connection/redis-client.factory';
import { redactRedisUrl } from '../libs/redis/src/connection/redis-url';
import { RedisKeyBuilder } from '../libs/redis/src/keys/redis-key-builder';

const USAGE = `usage: npm run check:consistency -- [--tenant T]... [--json]
  REDIS_URL         where the data lives (default redis://127.0.0.1:6379)
  REDIS_KEY_PREFIX  key prefix the API uses (default masa)`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        tenant: { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  let keys: RedisKeyBuilder;
  try {
    keys = new RedisKeyBuilder(process.env.REDIS_KEY_PREFIX || 'masa');
    for (const tenant of args.tenant ?? []) keys.tenantPrefix(tenant);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const client = createRedisClient({ url, commandTimeoutMs: 30_000, connectTimeoutMs: 5_000 });
  client.on('error', () => undefined); // reported below, once
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve);
      setTimeout(() => reject(new Error(`Redis at ${redactRedisUrl(url)} did not answer`)), 5_000);
    });
    const checker = new ConsistencyChecker(client, keys);
    const tenants = args.tenant ?? (await checker.tenants());
    const reports: TenantConsistency[] = [];
    for (const tenant of tenants) reports.push(await checker.checkTenant(tenant));
    const violations = reports.reduce((n, r) => n + r.violations.length, 0);
    if (args.json) {
      process.stdout.write(
        `${JSON.stringify({ consistent: violations === 0, tenants: reports }, null, 2)}\n`,
      );
    } else {
      for (const r of reports) {
        process.stdout.write(
          `${r.tenant}: ${r.sessions} sessions, ${r.memory_records} memory records, ` +
            `${r.cache_entries} cache entries, ${r.pending_expiry} pending expiry, ` +
            `${r.violations.length} violations\n`,
        );
        for (const v of r.violations) {
          process.stdout.write(
            `  ${v.rule}  ${v.key}${v.member ? `  [${v.member}]` : ''}  ${v.detail}\n`,
          );
        }
      }
      process.stdout.write(
        `${reports.length} tenants checked: ${violations === 0 ? 'consistent' : `${violations} violations`}\n`,
      );
    }
    return violations === 0 ? 0 : 1;
  } catch (error) {
    process.stderr.write(
      `check failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 2;
  } finally {
    client.disconnect();
  }
}

void main().then((code) => process.exit(code));
