import { apiKeyHint, hashApiKey, issueApiKey, parseApiKey, sameHash } from './api-key-format';

describe('API key format', () => {
  it('issues masa_<tenant>.<id>.<secret> keys that parse back to their tenant and id', () => {
    const issued = issueApiKey('acme-co');
    expect(issued.key).toMatch(/^masa_acme-co\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/);
    expect(parseApiKey(issued.key)).toEqual({ tenant: 'acme-co', id: issued.id });
    expect(issued.secretHash).toBe(hashApiKey(issued.key));
    expect(apiKeyHint('acme-co', issued.id)).toBe(`masa_acme-co.${issued.id}.…`);
  });

  it('gives every key its own secret', () => {
    const keys = new Set(Array.from({ length: 100 }, () => issueApiKey('t').key.split('.')[2]));
    expect(keys.size).toBe(100);
  });

  it('does not parse keys of another shape', () => {
    for (const bad of ['masa_', 'masa_acme.abc.def', 'MASA_acme.0123456789abcdef.x', 'jwt.a.b']) {
      expect(parseApiKey(bad)).toBeUndefined();
    }
    expect(parseApiKey(`masa_Acme.0123456789abcdef.${'a'.repeat(43)}`)).toBeUndefined();
  });

  it('compares hashes exactly', () => {
    const a = hashApiKey('x');
    expect(sameHash(a, hashApiKey('x'))).toBe(true);
    expect(sameHash(a, hashApiKey('y'))).toBe(false);
    expect(sameHash(a, 'abcd')).toBe(false);
  });
});
