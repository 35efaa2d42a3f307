import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign } from 'jsonwebtoken';

/**
 * A stand-in identity provider: an RSA key pair and an HTTP server publishing its public key as a
 * JWKS (the same document Keycloak, Entra ID and Auth0 serve), on a free port.
 */
export class JwksServer {
  private constructor(
    private readonly server: Server,
    private readonly privateKey: KeyObject,
    readonly kid: string,
    readonly url: string,
  ) {}

  static async start(kid = 'test-key-1'): Promise<JwksServer> {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };
    const server = createServer((request, response) => {
      if (request.url === '/.well-known/jwks.json') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ keys: [jwk] }));
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new JwksServer(
      server,
      privateKey,
      kid,
      `http://127.0.0.1:${port}/.well-known/jwks.json`,
    );
  }

  /** An RS256 token with these claims, signed by this provider's key (kid in the header). */
  token(claims: Record<string, unknown>, expiresIn = 3600): string {
    return sign(claims, this.privateKey, { algorithm: 'RS256', keyid: this.kid, expiresIn });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
