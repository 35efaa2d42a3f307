import { UnauthorizedException } from '@nestjs/common';
import { JsonWebTokenError, NotBeforeError, TokenExpiredError } from 'jsonwebtoken';
import { InvalidClaimsError } from './jwt.strategy';
import { UnknownSigningKeyError } from './verification-key';

/**
 * Why a bearer token was refused, in words safe to give the caller (RFC 6750 error_description)
 * and to log: what is wrong with the token, never what a valid one would need to contain
 * (no expected issuer, audience, key or algorithm).
 */
export interface TokenRefusal {
  /** RFC 6750 §3.1 error code; absent when the request carried no token at all. */
  error?: 'invalid_request' | 'invalid_token';
  description: string;
}

export const TOKEN_REQUIRED_DETAIL = 'A valid bearer token is required.';

export function refusalOf(
  error: unknown,
  info: unknown,
  query: Record<string, unknown> | undefined,
): TokenRefusal {
  const cause = error ?? info;
  if (cause instanceof TokenExpiredError) return invalid('the token has expired');
  if (cause instanceof NotBeforeError) return invalid('the token is not valid yet (nbf)');
  if (cause instanceof InvalidClaimsError) {
    return invalid(
      cause.message === 'malformed token' ? 'the token is malformed' : `claim ${cause.message}`,
    );
  }
  if (cause instanceof UnknownSigningKeyError) return invalid('no known key signed the token');
  if (cause instanceof JsonWebTokenError) return invalid(describeJwtError(cause.message));
  if (cause instanceof Error && cause.message === 'No auth token') {
    if (query && ['access_token', 'token', 'api_key'].some((name) => name in query)) {
      return {
        error: 'invalid_request',
        description: 'send the token in the Authorization header, never in the query string',
      };
    }
    return { description: 'send Authorization: Bearer <token>' };
  }
  return invalid('the token was not accepted');
}

function invalid(description: string): TokenRefusal {
  return { error: 'invalid_token', description };
}

/** jsonwebtoken's messages, minus anything that names what a valid token should contain. */
function describeJwtError(message: string): string {
  if (message === 'invalid signature') return 'the signature does not verify';
  if (message === 'invalid algorithm') return 'the token is signed with an algorithm not accepted';
  if (message.startsWith('jwt audience invalid')) return 'the token is for another audience (aud)';
  if (message.startsWith('jwt issuer invalid')) return 'the token is from another issuer (iss)';
  if (message === 'jwt signature is required') return 'the token is not signed';
  return 'the token is malformed';
}

/** `WWW-Authenticate` per RFC 6750 §3: quoted values, no `"` or `\` inside them. */
export function wwwAuthenticate(refusal: TokenRefusal): string {
  const quote = (value: string) => `"${value.replace(/["\\]/g, "'")}"`;
  const parts = ['realm="api"'];
  if (refusal.error) parts.push(`error=${quote(refusal.error)}`);
  parts.push(`error_description=${quote(refusal.description)}`);
  return `Bearer ${parts.join(', ')}`;
}

/** The 401 every authentication failure answers, with its reason for the header and the log. */
export class BearerTokenRefusedError extends UnauthorizedException {
  constructor(readonly refusal: TokenRefusal) {
    super(TOKEN_REQUIRED_DETAIL);
  }
}
