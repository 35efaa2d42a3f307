import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { sign } from 'jsonwebtoken';
import { ROLES } from '../../../apps/api/src/auth/permissions';
import { tokenFor, TEST_JWT_SECRET } from '../test-app';

/** An Authorization header value (or none), and what it is, for the report. */
export interface Credential {
  label: string;
  header?: { name: string; value: string };
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** An HS256 token over a payload given as text (jsonwebtoken refuses a `__proto__` claim). */
function signedText(payload: string): string {
  const head = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${Buffer.from(payload).toString('base64url')}`;
  return `${head}.${createHmac('sha256', TEST_JWT_SECRET).update(head).digest('base64url')}`;
}

const bearer = (label: string, token: string): Credential => ({
  label,
  header: { name: 'authorization', value: `Bearer ${token}` },
});

/**
 * Valid tokens of every role in the tenants the test seeded (agents bound to the agent ids it
 * uses), plus the API key it created; then tokens that must all be refused with 401.
 */
export function credentials(options: {
  tenants: readonly string[];
  agentIds: readonly string[];
  apiKey?: string;
}): { valid: Credential[]; broken: Credential[] } {
  const valid: Credential[] = [];
  for (const tenant of options.tenants) {
    for (const role of ROLES.filter((r) => r !== 'agent')) {
      valid.push(
        bearer(`${role}@${tenant}`, tokenFor({ sub: `${role}-fuzz`, roles: [role], tenant })),
      );
    }
    for (const agent of options.agentIds) {
      valid.push(
        bearer(`agent:${agent}@${tenant}`, tokenFor({ sub: agent, roles: ['agent'], tenant })),
      );
    }
  }
  valid.push(
    bearer(
      'orchestrator+analyst@default',
      tokenFor({ sub: 'multi', roles: ['orchestrator', 'analyst'], tenant: 'default' }),
    ),
  );
  if (options.apiKey) {
    valid.push({ label: 'api-key', header: { name: 'x-api-key', value: options.apiKey } });
  }

  const claims = { sub: 'orchestrator-fuzz', roles: ['admin'], tenant: 'default' };
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ ...claims, exp: now + 3600 })}.`;
  const broken: Credential[] = [
    { label: 'none' },
    bearer('expired', tokenFor(claims, { expiresIn: -60 })),
    bearer('not-yet-valid', tokenFor(claims, { notBefore: 3600 })),
    bearer('wrong-signature', tokenFor(claims, {}, 'another-secret-0123456789abcdef0123456789')),
    bearer('alg-none', unsigned),
    bearer('alg-none-signed', `${unsigned}c2ln`),
    bearer('no-exp', sign(claims, TEST_JWT_SECRET, { algorithm: 'HS256' })),
    bearer('unknown-role', tokenFor({ sub: 'x', roles: ['root'], tenant: 'default' })),
    bearer('roles-not-list', sign({ ...claims, roles: 'admin', exp: now + 60 }, TEST_JWT_SECRET)),
    bearer('bad-tenant', tokenFor({ sub: 'x', roles: ['admin'], tenant: '../*' })),
    bearer('bad-sub', tokenFor({ sub: '*\r\n', roles: ['admin'], tenant: 'default' })),
    bearer(
      'proto-claims',
      signedText(`{"sub":"x","roles":["admin"],"__proto__":{"tenant":"x"},"exp":${now + 3600}}`),
    ),
    bearer(
      'huge-claims',
      tokenFor({ sub: 'x', roles: Array(5_000).fill('admin'), tenant: 'default' }),
    ),
    bearer('garbage', 'not.a.token'),
    bearer('garbage-b64', 'AAAA.BBBB.CCCC'),
    bearer('empty', ''),
    bearer('huge', `${'a'.repeat(40_000)}.${'b'.repeat(40_000)}.c`),
    { label: 'basic', header: { name: 'authorization', value: 'Basic YWRtaW46YWRtaW4=' } },
    { label: 'scheme-only', header: { name: 'authorization', value: 'Bearer' } },
    {
      label: 'bad-api-key',
      header: { name: 'x-api-key', value: `masa_default.0123456789abcdef.${'x'.repeat(43)}` },
    },
    { label: 'huge-api-key', header: { name: 'x-api-key', value: 'k'.repeat(16_000) } },
  ];
  return { valid, broken };
}

export function credentialArbitrary(set: {
  valid: Credential[];
  broken: Credential[];
}): fc.Arbitrary<Credential> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...set.valid), weight: 4 },
    { arbitrary: fc.constantFrom(...set.broken), weight: 1 },
  );
}
