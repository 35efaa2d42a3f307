import { ClaimsMapper, InvalidClaimsError, readClaim } from './claims-mapper';

const exp = Math.floor(Date.now() / 1000) + 3600;

describe('readClaim', () => {
  const claims = {
    sub: 'u1',
    realm_access: { roles: ['orchestrator'] },
    'https://masa.example.com/roles': ['analyst'],
    'https://masa.example.com/app': { tenant: 'acme' },
    list: ['a'],
  };

  it('reads a plain claim, a dotted path and a namespaced claim whose name has dots', () => {
    expect(readClaim(claims, 'sub')).toBe('u1');
    expect(readClaim(claims, 'realm_access.roles')).toEqual(['orchestrator']);
    expect(readClaim(claims, 'https://masa.example.com/roles')).toEqual(['analyst']);
    expect(readClaim(claims, 'https://masa.example.com/app.tenant')).toBe('acme');
  });

  it('answers undefined for missing paths and paths through non-objects', () => {
    expect(readClaim(claims, 'realm_access.missing')).toBeUndefined();
    expect(readClaim(claims, 'list.0')).toBeUndefined();
    expect(readClaim(claims, 'sub.x')).toBeUndefined();
    expect(readClaim(claims, 'toString')).toBeUndefined();
  });
});

describe('ClaimsMapper', () => {
  it("keeps today's strictness with the default claims: one unknown role refuses the token", () => {
    const mapper = new ClaimsMapper();
    expect(mapper.toPrincipal({ sub: 'o', roles: ['orchestrator'], exp })).toEqual({
      sub: 'o',
      roles: ['orchestrator'],
      tenant: 'default',
    });
    expect(() => mapper.toPrincipal({ sub: 'o', roles: ['orchestrator', 'x'], exp })).toThrow(
      InvalidClaimsError,
    );
  });

  it("ignores an identity provider's other roles but needs one known role", () => {
    const mapper = new ClaimsMapper({
      subject: 'sub',
      roles: 'realm_access.roles',
      tenant: 'tenant',
    });
    const roles = ['offline_access', 'agent', 'default-roles-acme'];
    expect(mapper.toPrincipal({ sub: 'a', realm_access: { roles }, exp }).roles).toEqual(['agent']);
    expect(() =>
      mapper.toPrincipal({ sub: 'a', realm_access: { roles: ['offline_access'] }, exp }),
    ).toThrow(InvalidClaimsError);
  });

  it('reads scopes as a space-separated string or an array, and none as an empty list', () => {
    const mapper = new ClaimsMapper({
      subject: 'sub',
      roles: 'roles',
      tenant: 'tenant',
      scopes: 'scp',
    });
    const base = { sub: 's', roles: ['analyst'], exp };
    expect(mapper.toPrincipal({ ...base, scp: 'read  write' }).scopes).toEqual(['read', 'write']);
    expect(mapper.toPrincipal({ ...base, scp: ['read'] }).scopes).toEqual(['read']);
    expect(mapper.toPrincipal(base).scopes).toEqual([]);
  });
});
