#!/usr/bin/env node
/**
 * Prints a development token signed with JWT_SECRET (HS256), for curl and Swagger's Authorize:
 *   TOKEN=$(npm run -s token -- --sub orch-1 --roles orchestrator --tenant acme --ttl 1h)
 * Without JWT_SECRET in the environment it uses the secret `npm start` generated in .data/.
 * Arguments are checked against the rules the API applies, so a token printed here is one the API
 * accepts (or the tool says why not and exits 2).
 */
const { readFileSync, existsSync } = require('node:fs');
const { join } = require('node:path');
const { parseArgs } = require('node:util');
const { sign } = require('jsonwebtoken');

const ROLES = ['admin', 'orchestrator', 'analyst', 'agent'];
const DEV_SECRET_FILE = join(__dirname, '..', '.data', 'dev-jwt-secret');
// The API's own rules (apps/api/src/auth/jwt.strategy.ts, libs/redis TENANT_PATTERN).
const SUBJECT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@:+/=-]{0,127}$/;
const TENANT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const TTL_PATTERN = /^([1-9][0-9]*)(s|m|h|d)?$/;
const MAX_TTL_SECONDS = 30 * 24 * 3600;

const USAGE = `Usage: npm run -s token -- --sub <id> [options]

Prints a signed development token (HS256) on stdout, nothing else.

  --sub <id>          caller id (required); for --roles agent, the agent id
  --roles <list>      comma-separated: ${ROLES.join(', ')} (default orchestrator)
  --tenant <id>       lower-case tenant, ^[a-z0-9][a-z0-9_-]{0,62}$ (default "default")
  --ttl <n>[s|m|h|d]  lifetime, 1s to 30d (default 1h)
  --issuer <iss>      iss claim (default JWT_ISSUER)
  --audience <aud>    aud claim (default JWT_AUDIENCE)
  -h, --help          this text

Signs with JWT_SECRET, or with .data/dev-jwt-secret that \`npm start\` creates.
Example:
  TOKEN=$(npm run -s token -- --sub orch-1 --roles orchestrator --tenant acme --ttl 1h)
`;

function fail(message) {
  process.stderr.write(`token: ${message}\nRun \`npm run -s token -- --help\` for usage.\n`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      sub: { type: 'string' },
      roles: { type: 'string', default: 'orchestrator' },
      tenant: { type: 'string', default: 'default' },
      ttl: { type: 'string', default: '1h' },
      issuer: { type: 'string', default: process.env.JWT_ISSUER },
      audience: { type: 'string', default: process.env.JWT_AUDIENCE },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  // parseArgs explains unknown options, missing values and stray arguments well; its stack does not.
  fail(error.message);
}

if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

if (!values.sub) fail('--sub is required (the caller id; the agent id for --roles agent)');
if (!SUBJECT_PATTERN.test(values.sub)) {
  fail(
    `--sub "${values.sub}" must be 1-128 characters of A-Z a-z 0-9 . _ @ : + / = - (starting with a letter or digit)`,
  );
}
const roles = [...new Set(values.roles.split(',').map((role) => role.trim()))].filter(Boolean);
if (roles.length === 0) fail(`--roles needs at least one of: ${ROLES.join(', ')}`);
const unknown = roles.filter((role) => !ROLES.includes(role));
if (unknown.length > 0) fail(`unknown role(s): ${unknown.join(', ')} (known: ${ROLES.join(', ')})`);
if (!TENANT_PATTERN.test(values.tenant)) {
  const lower = values.tenant.toLowerCase();
  const hint = TENANT_PATTERN.test(lower) ? `; did you mean --tenant ${lower}?` : '';
  fail(
    `--tenant "${values.tenant}" would be refused by the API: use lower-case letters, digits, _ and -, ` +
      `starting with a letter or digit, at most 63 characters${hint}`,
  );
}
const ttl = TTL_PATTERN.exec(values.ttl);
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 };
const ttlSeconds = ttl ? Number(ttl[1]) * UNIT_SECONDS[ttl[2] ?? 's'] : NaN;
if (!ttl || ttlSeconds > MAX_TTL_SECONDS) {
  fail(
    `--ttl "${values.ttl}" must be a positive whole number with s, m, h or d, at most 30d (e.g. 90s, 15m, 1h, 7d)`,
  );
}

let secret = process.env.JWT_SECRET;
if (!secret && existsSync(DEV_SECRET_FILE)) secret = readFileSync(DEV_SECRET_FILE, 'utf8').trim();
if (!secret) {
  fail(
    'JWT_SECRET is not set and no development secret exists yet (run `npm start` once, or set JWT_SECRET)',
  );
}

const options = { algorithm: 'HS256', expiresIn: ttlSeconds };
if (values.issuer) options.issuer = values.issuer;
if (values.audience) options.audience = values.audience;
process.stdout.write(
  `${sign({ sub: values.sub, roles, tenant: values.tenant }, secret, options)}\n`,
);
