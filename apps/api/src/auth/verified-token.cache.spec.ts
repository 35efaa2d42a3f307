import type { Principal } from './principal';
import { VerifiedTokenCache } from './verified-token.cache';

const principal: Principal = { sub: 'orch-1', roles: ['orchestrator'], tenant: 'acme' };

describe('VerifiedTokenCache', () => {
  let now: number;
  const clock = () => now;

  beforeEach(() => {
    now = 1_000_000_000_000;
  });

  it('returns the principal of a verified token until the token expires', () => {
    const cache = new VerifiedTokenCache(10, 60_000, clock);
    cache.set('t1', principal, { exp: now / 1000 + 30 });

    expect(cache.get('t1')).toBe(principal);
    now += 29_999;
    expect(cache.get('t1')).toBe(principal);
    now += 1;
    expect(cache.get('t1')).toBeUndefined();
  });

  it('forgets a long-lived token after maxAge, so a revoked signing key stops counting', () => {
    const cache = new VerifiedTokenCache(10, 60_000, clock);
    cache.set('t1', principal, { exp: now / 1000 + 3600 });
    now += 60_000;
    expect(cache.get('t1')).toBeUndefined();
  });

  it('never answers for a token that is not valid yet (nbf in the future)', () => {
    const cache = new VerifiedTokenCache(10, 60_000, clock);
    cache.set('t1', principal, { exp: now / 1000 + 30, nbf: now / 1000 + 10 });
    expect(cache.get('t1')).toBeUndefined();
    now += 10_000;
    expect(cache.get('t1')).toBe(principal);
  });

  it('does not keep tokens without exp', () => {
    const cache = new VerifiedTokenCache(10, 60_000, clock);
    cache.set('t1', principal, {});
    expect(cache.get('t1')).toBeUndefined();
  });

  it('matches only the exact token string', () => {
    const cache = new VerifiedTokenCache(10, 60_000, clock);
    cache.set('header.payload.signature', principal, { exp: now / 1000 + 30 });
    expect(cache.get('header.payload.signaturX')).toBeUndefined();
  });

  it('evicts the oldest entry when full', () => {
    const cache = new VerifiedTokenCache(2, 60_000, clock);
    const exp = { exp: now / 1000 + 30 };
    cache.set('a', principal, exp);
    cache.set('b', principal, exp);
    cache.set('c', principal, exp);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBe(principal);
    expect(cache.get('c')).toBe(principal);
  });
});
