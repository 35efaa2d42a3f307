import { JsonWebTokenError, NotBeforeError, TokenExpiredError } from 'jsonwebtoken';
import { InvalidClaimsError } from './jwt.strategy';
import { refusalOf, wwwAuthenticate } from './token-refusal';
import { UnknownSigningKeyError } from './verification-key';

describe('refusalOf', () => {
  it.each([
    [new TokenExpiredError('jwt expired', new Date()), 'the token has expired'],
    [new NotBeforeError('jwt not active', new Date()), 'the token is not valid yet (nbf)'],
    [new JsonWebTokenError('invalid signature'), 'the signature does not verify'],
    [
      new JsonWebTokenError('invalid algorithm'),
      'the token is signed with an algorithm not accepted',
    ],
    [new JsonWebTokenError('jwt malformed'), 'the token is malformed'],
    [
      new JsonWebTokenError('jwt audience invalid. expected: secret-audience'),
      'the token is for another audience (aud)',
    ],
    [
      new JsonWebTokenError('jwt issuer invalid. expected: https://idp.internal'),
      'the token is from another issuer (iss)',
    ],
    [new UnknownSigningKeyError('unknown kid k9'), 'no known key signed the token'],
    [
      new InvalidClaimsError('roles must be a non-empty list of known roles'),
      'claim roles must be a non-empty list of known roles',
    ],
    [new InvalidClaimsError('tenant is malformed'), 'claim tenant is malformed'],
    [new InvalidClaimsError('malformed token'), 'the token is malformed'],
    [new Error('anything else'), 'the token was not accepted'],
  ])('explains %p as an invalid_token', (cause, description) => {
    expect(refusalOf(undefined, cause, {})).toEqual({ error: 'invalid_token', description });
  });

  it('never repeats what a valid token would need (expected issuer or audience)', () => {
    const refusal = refusalOf(
      undefined,
      new JsonWebTokenError('jwt audience invalid. expected: secret-audience'),
      {},
    );
    expect(JSON.stringify(refusal)).not.toContain('secret-audience');
  });

  it('prefers the error over the info (claims are checked after the signature)', () => {
    expect(refusalOf(new InvalidClaimsError('exp is required'), undefined, {}).description).toBe(
      'claim exp is required',
    );
  });

  it('asks for a token without an error code when none was sent, and for the header when it came in the query', () => {
    expect(refusalOf(undefined, new Error('No auth token'), {})).toEqual({
      description: 'send Authorization: Bearer <token>',
    });
    expect(refusalOf(undefined, new Error('No auth token'), { access_token: 'x' })).toEqual({
      error: 'invalid_request',
      description: 'send the token in the Authorization header, never in the query string',
    });
  });
});

describe('wwwAuthenticate', () => {
  it('writes RFC 6750 parameters as quoted strings', () => {
    expect(wwwAuthenticate({ error: 'invalid_token', description: 'the token has expired' })).toBe(
      'Bearer realm="api", error="invalid_token", error_description="the token has expired"',
    );
    expect(wwwAuthenticate({ description: 'say "hi"' })).toBe(
      `Bearer realm="api", error_description="say 'hi'"`,
    );
  });
});
