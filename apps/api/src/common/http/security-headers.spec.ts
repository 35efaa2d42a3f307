import { securityHeaders } from './security-headers';

describe('securityHeaders', () => {
  it('is the set helmet sends, without a CSP when it is off and without Fastify’s own headers', async () => {
    const headers = await securityHeaders({ contentSecurityPolicy: false });
    expect(headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'strict-transport-security': expect.stringMatching(/max-age=\d+/) as string,
      'cross-origin-opener-policy': 'same-origin',
    });
    expect(headers).not.toHaveProperty('content-security-policy');
    for (const own of ['content-type', 'content-length', 'date', 'connection']) {
      expect(headers).not.toHaveProperty(own);
    }
  });

  it('follows the options it is given', async () => {
    const headers = await securityHeaders({ frameguard: { action: 'deny' } });
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['content-security-policy']).toContain("default-src 'self'");
  });
});
