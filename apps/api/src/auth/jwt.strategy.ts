import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { KeyObject } from 'node:crypto';
import { decode, type JwtPayload } from 'jsonwebtoken';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { TENANT_PATTERN } from '@app/redis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ROLES, type Role } from './permissions';
import type { Principal } from './principal';
import { DEFAULT_TENANT } from '../common/http/tenant.decorator';
import { createKeySource } from './verification-key';

const SUBJECT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@:+/=-]{0,127}$/;

/** Thrown for any claim problem; the guard answers every authentication failure the same way. */
export class InvalidClaimsError extends Error {}

/**
 * Verifies `Authorization: Bearer <JWT>` (never a query string) and turns its claims into a
 * Principal. Signature, algorithm, exp, nbf, iss and aud are checked by jsonwebtoken; the claims
 * this API relies on are checked here.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const keys = createKeySource(config.auth);
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      algorithms: keys.algorithms,
      issuer: config.auth.issuer,
      audience: config.auth.audience,
      ignoreExpiration: false,
      secretOrKeyProvider: (
        _request: unknown,
        rawToken: string,
        done: (error: unknown, key?: KeyObject) => void,
      ) => {
        const header = (decode(rawToken, { complete: true }) ?? undefined)?.header;
        if (!header) return done(new InvalidClaimsError('malformed token'));
        keys.keyFor(header).then(
          (key) => done(null, key),
          (error: unknown) => done(error),
        );
      },
    } as ConstructorParameters<typeof Strategy>[0]);
  }

  validate(payload: JwtPayload): Principal {
    return principalFromClaims(payload);
  }
}

export function principalFromClaims(payload: JwtPayload): Principal {
  if (typeof payload.exp !== 'number') throw new InvalidClaimsError('exp is required');
  if (typeof payload.sub !== 'string' || !SUBJECT_PATTERN.test(payload.sub)) {
    throw new InvalidClaimsError('sub is missing or malformed');
  }
  const roles: unknown = payload.roles;
  if (
    !Array.isArray(roles) ||
    roles.length === 0 ||
    !roles.every((role): role is Role => (ROLES as readonly unknown[]).includes(role))
  ) {
    throw new InvalidClaimsError('roles must be a non-empty list of known roles');
  }
  const tenant: unknown = payload.tenant ?? DEFAULT_TENANT;
  if (typeof tenant !== 'string' || !TENANT_PATTERN.test(tenant)) {
    throw new InvalidClaimsError('tenant is malformed');
  }
  return { sub: payload.sub, roles: [...new Set(roles)], tenant };
}
