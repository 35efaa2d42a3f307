import type { Principal } from './principal';

interface Entry {
  principal: Principal;
  /** Epoch ms after which the entry must not be used (token exp, capped by the cache TTL). */
  validUntil: number;
  /** Epoch ms before which the token is not valid yet (nbf), or 0. */
  notBefore: number;
}

/**
 * Remembers tokens that passed full verification, keyed by the exact token string (signature
 * included, so a forged or altered token can never hit). Verification (passport + jsonwebtoken)
 * measured as the largest per-request cost of a read; orchestrators reuse one token for many calls.
 * Entries live until the token's exp but at most `maxAgeMs`, so a key removed from a JWKS stops
 * being honoured within that time. Bounded: the oldest entry goes first (Map keeps insertion order).
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly maxAgeMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(token: string): Principal | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    const now = this.now();
    if (now >= entry.validUntil) {
      this.entries.delete(token);
      return undefined;
    }
    return now < entry.notBefore ? undefined : entry.principal;
  }

  clear(): void {
    this.entries.clear();
  }

  set(token: string, principal: Principal, claims: { exp?: number; nbf?: number }): void {
    if (typeof claims.exp !== 'number') return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, {
      principal,
      validUntil: Math.min(claims.exp * 1000, this.now() + this.maxAgeMs),
      notBefore: typeof claims.nbf === 'number' ? claims.nbf * 1000 : 0,
    });
  }
}
