import { createHmac } from 'node:crypto';
import { signWebhook, verifyWebhook } from './webhook-signature';

describe('webhook signatures', () => {
  const secret = 'whsec-unit-0123456789';
  const body = '{"event_id":"1-0"}';

  it('is HMAC-SHA256 over "<timestamp>.<body>", hex, with a version prefix', () => {
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(signWebhook(secret, 1700000000, body)).toBe(`v1=${expected}`);
  });

  it('verifies a fresh signature and refuses a changed body, another secret or an old timestamp', () => {
    const now = 1700000000;
    const signature = signWebhook(secret, now, body);
    expect(verifyWebhook(secret, String(now), body, signature, 300, now + 10)).toBe(true);
    expect(verifyWebhook(secret, String(now), `${body} `, signature, 300, now)).toBe(false);
    expect(verifyWebhook('other-secret-000000', String(now), body, signature, 300, now)).toBe(
      false,
    );
    expect(verifyWebhook(secret, String(now), body, signature, 300, now + 301)).toBe(false);
    expect(verifyWebhook(secret, 'soon', body, signature, 300, now)).toBe(false);
  });
});
