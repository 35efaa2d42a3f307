/**
 * Operator wrappers around the backup API (they talk HTTP only, never to Redis):
 *
 *   npm run backup  -- --url https://api.example.com --token $TOKEN [--out file] [--decrypt]
 *   npm run restore -- --url https://api.example.com --token $TOKEN --file file [--conflict skip]
 *
 * backup streams GET /api/v1/admin/export to --out (default stdout); restore streams --file to
 * POST /api/v1/admin/import and prints the result. The token's tenant is the one backed up or
 * restored. Exit status: 0 done, 1 the API refused or some lines failed, 2 usage error.
 */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';

const BACKUP_USAGE = `usage: npm run backup -- --url URL --token TOKEN [--out FILE] [--decrypt]
  --url      base URL of the API (e.g. http://localhost:3000)
  --token    bearer token of an admin of the tenant to back up (or env MASA_TOKEN)
  --out      file to write the NDJSON backup to (default: stdout)
  --decrypt  export payloads decrypted (default: as stored, encrypted at rest stays encrypted)`;

const RESTORE_USAGE = `usage: npm run restore -- --url URL --token TOKEN --file FILE [--conflict skip|overwrite|fail]
  --url       base URL of the API (e.g. http://localhost:3000)
  --token     bearer token of an admin of the tenant to restore into (or env MASA_TOKEN)
  --file      NDJSON file written by npm run backup
  --conflict  what to do with records that already exist (default: fail)`;

class UsageError extends Error {}

function baseUrl(value: string | undefined): string {
  if (!value) throw new UsageError('--url is required');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--url is not a URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError('--url must be http:// or https://');
  }
  return url.toString().replace(/\/+$/, '');
}

function token(value: string | undefined): string {
  const found = value ?? process.env.MASA_TOKEN;
  if (!found) throw new UsageError('--token is required (or set MASA_TOKEN)');
  return found;
}

async function refusal(response: Response): Promise<string> {
  const text = await response.text();
  return `the API answered ${response.status}: ${text.slice(0, 2000)}`;
}

export async function backup(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      out: { type: 'string' },
      decrypt: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${BACKUP_USAGE}\n`);
    return 0;
  }
  const url = `${baseUrl(values.url)}/api/v1/admin/export${values.decrypt ? '?decrypt=true' : ''}`;
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token(values.token)}` },
  });
  if (!response.ok || !response.body) {
    process.stderr.write(`backup failed: ${await refusal(response)}\n`);
    return 1;
  }
  const source = Readable.fromWeb(response.body);
  if (values.out) {
    await pipeline(source, createWriteStream(values.out));
    process.stderr.write(`backup written to ${values.out} (${statSync(values.out).size} bytes)\n`);
  } else {
    await pipeline(source, process.stdout);
  }
  return 0;
}

export async function restore(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      file: { type: 'string' },
      conflict: { type: 'string', default: 'fail' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${RESTORE_USAGE}\n`);
    return 0;
  }
  const base = baseUrl(values.url);
  const bearer = token(values.token);
  if (!values.file) throw new UsageError('--file is required');
  try {
    statSync(values.file);
  } catch {
    throw new UsageError(`--file cannot be read: ${values.file}`);
  }
  if (!['skip', 'overwrite', 'fail'].includes(values.conflict ?? '')) {
    throw new UsageError('--conflict must be skip, overwrite or fail');
  }
  const response = await fetch(`${base}/api/v1/admin/import?conflict=${values.conflict}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/x-ndjson' },
    body: Readable.toWeb(createReadStream(values.file)),
    duplex: 'half',
  });
  if (!response.ok) {
    process.stderr.write(`restore failed: ${await refusal(response)}\n`);
    return 1;
  }
  const result = (await response.json()) as { failed: number };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return result.failed > 0 ? 1 : 0;
}

export function run(command: (argv: string[]) => Promise<number>, usage: string): void {
  command(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      const isUsage =
        error instanceof UsageError ||
        (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
      process.stderr.write(`${message}\n${isUsage ? `${usage}\n` : ''}`);
      process.exit(isUsage ? 2 : 1);
    },
  );
}

if (require.main === module) {
  if (process.argv.includes('--restore')) {
    process.argv.splice(process.argv.indexOf('--restore'), 1);
    run(restore, RESTORE_USAGE);
  } else {
    run(backup, BACKUP_USAGE);
  }
}
