import { Injectable } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiKeyRepository } from '@app/redis';
import { ROLES, type Role } from '../auth/permissions';
import type { Principal } from '../auth/principal';
import { VerifiedTokenCache } from '../auth/verified-token.cache';
import { API_KEY_PREFIX, hashApiKey, parseApiKey, sameHash } from './api-key-format';

/**
 * How long a replica may keep honouring a key it has verified without asking Redis again: the
 * bound on how late a revocation made on another replica takes effect there.
 */
export const API_KEY_REVALIDATE_MS = 1000;

/** Two credentials in one request: refused rather than guessing which one was meant. */
export const AMBIGUOUS = Symbol('ambiguous credentials');

/**
 * Verifies API keys (`X-API-Key: masa_…` or `Authorization: Bearer masa_…`, the plan's format)
 * against their stored SHA-256 and turns them into a Principal. A verified key is remembered for
 * at most API_KEY_REVALIDATE_MS, so a revoked key stops working on every replica within that time
 * (at once on the replica that revoked it).
 */
@Injectable()
export class ApiKeyAuthenticator {
  private readonly verified = new VerifiedTokenCache(10_000, API_KEY_REVALIDATE_MS);

  constructor(private readonly keys: ApiKeyRepository) {}

  /** The API key a request presents, undefined when it presents none (then it may carry a JWT). */
  static presented(headers: IncomingHttpHeaders): string | typeof AMBIGUOUS | undefined {
    const header = headers['x-api-key'];
    const bearer = /^bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
    if (header !== undefined) {
      return headers.authorization !== undefined || Array.isArray(header) ? AMBIGUOUS : header;
    }
    return bearer?.startsWith(API_KEY_PREFIX) ? bearer : undefined;
  }

  /** The key's principal, or undefined for an unknown, revoked, expired or altered key. */
  async authenticate(presented: string): Promise<Principal | undefined> {
    const where = parseApiKey(presented);
    if (!where) return undefined;
    const hash = hashApiKey(presented);
    const known = this.verified.get(hash);
    if (known) return known;
    const stored = await this.keys.get(where.tenant, where.id);
    if (!stored || !sameHash(stored.secretHash, hash)) return undefined;
    const principal: Principal = {
      sub: `api-key:${stored.id}`,
      roles: stored.roles.filter((role): role is Role =>
        (ROLES as readonly string[]).includes(role),
      ),
      tenant: where.tenant,
      ...(stored.scopes === undefined ? {} : { scopes: stored.scopes }),
    };
    const exp = Math.floor((stored.expiresAt ?? Date.now() + 3_600_000) / 1000);
    this.verified.set(hash, principal, { exp });
    return principal;
  }

  /** Called after a revocation on this replica: nothing verified before it is honoured again. */
  forgetVerified(): void {
    this.verified.clear();
  }
}
