#!/usr/bin/env node
/**
 * Prints a development token signed with JWT_SECRET (HS256), for curl and Swagger's Authorize:
 *   npm run token -- --sub orch-1 --roles orchestrator --tenant acme --ttl 1h
 * Without JWT_SECRET in the environment it uses the secret `npm start` generated in .data/.
 */
const { readFileSync, existsSync } = require('node:fs');
const { join } = require('node:path');
const { parseArgs } = require('node:util');
const { sign } = require('jsonwebtoken');

const ROLES = ['admin', 'orchestrator', 'analyst', 'agent'];
const DEV_SECRET_FILE = join(__dirname, '..', '.data', 'dev-jwt-secret');

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    roles: { type: 'string', default: 'orchestrator' },
    tenant: { type: 'string', default: 'default' },
    ttl: { type: 'string', default: '1h' },
    issuer: { type: 'string', default: process.env.JWT_ISSUER },
    audience: { type: 'string', default: process.env.JWT_AUDIENCE },
  },
});

if (!values.sub) fail('--sub is required (the caller id; an agent id for --roles agent)');
const roles = values.roles.split(',').map((role) => role.trim());
const unknown = roles.filter((role) => !ROLES.includes(role));
if (unknown.length > 0) fail(`unknown role(s): ${unknown.join(', ')} (known: ${ROLES.join(', ')})`);

let secret = process.env.JWT_SECRET;
if (!secret && existsSync(DEV_SECRET_FILE)) secret = readFileSync(DEV_SECRET_FILE, 'utf8').trim();
if (!secret)
  fail('JWT_SECRET is not set and no development secret exists yet (run npm start once)');

const options = { algorithm: 'HS256', expiresIn: values.ttl };
if (values.issuer) options.issuer = values.issuer;
if (values.audience) options.audience = values.audience;
process.stdout.write(
  `${sign({ sub: values.sub, roles, tenant: values.tenant }, secret, options)}\n`,
);
