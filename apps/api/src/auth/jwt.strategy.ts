import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { KeyObject } from 'node:crypto';
import { decode, type JwtPayload } from 'jsonwebtoken';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Principal } from './principal';
import { createKeySource } from './verification-key';
import { ClaimsMapper, InvalidClaimsError } from './claims-mapper';

export { InvalidClaimsError } from './claims-mapper';

/**
 * Verifies `Authorization: Bearer <JWT>` (never a query string) and turns its claims into a
 * Principal. Signature, algorithm, exp, nbf, iss and aud are checked by jsonwebtoken; the claims
 * this API relies on are checked here.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  private readonly claims: ClaimsMapper;

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
    this.claims = new ClaimsMapper(config.auth.claims);
  }

  validate(payload: JwtPayload): Principal {
    return this.claims.toPrincipal(payload);
  }
}
