import {
  isSecretKey,
  maskPii,
  payloadFields,
  REDACTED,
  sanitize,
  sanitizePayload,
  truncate,
} from './audit-sanitizer';

const on = { piiMasking: true };

describe('audit sanitizer', () => {
  it.each([
    'password',
    'Password',
    'PASSWORD',
    'db_password',
    'userPassword',
    'secret',
    'client_secret',
    'clientSecret',
    'access_token',
    'refreshToken',
    'token',
    'api_key',
    'apiKey',
    'x-api-key',
    'APIKEY',
    'private_key',
    'privateKey',
    'Authorization',
    'cookie',
    'Set-Cookie',
    'aws.access.key',
  ])('treats %s as a secret key', (key) => {
    expect(isSecretKey(key)).toBe(true);
  });

  it.each([
    'max_tokens',
    'tokens_used',
    'session_id',
    'cache_key',
    'keys',
    'agent',
    'monkey',
    'status',
  ])('keeps %s readable', (key) => {
    expect(isSecretKey(key)).toBe(false);
  });

  it('redacts secrets at any depth, inside arrays, whatever their value type', () => {
    const input = {
      session_config: {
        agents: ['planner'],
        llm: { provider: 'x', ApiKey: 'sk-123', nested: [{ password: { a: 1 } }, { token: 42 }] },
      },
      metadata: { Authorization: 'Bearer abc', max_tokens: 512 },
    };
    expect(sanitize(input, on)).toEqual({
      session_config: {
        agents: ['planner'],
        llm: {
          provider: 'x',
          ApiKey: REDACTED,
          nested: [{ password: REDACTED }, { token: REDACTED }],
        },
      },
      metadata: { Authorization: REDACTED, max_tokens: 512 },
    });
    // The input is not modified.
    expect(input.metadata.Authorization).toBe('Bearer abc');
  });

  it('masks e-mail addresses, Luhn-valid card numbers and phone numbers in string values', () => {
    expect(maskPii('mail jane.doe@example.com now')).toBe('mail j***@example.com now');
    expect(maskPii('card 4242 4242 4242 4242 ok')).toBe('card [CARD ****4242] ok');
    expect(maskPii('4111-1111-1111-1111')).toBe('[CARD ****1111]');
    expect(maskPii('call +44 20 7946 0958')).toBe('call [PHONE ***58]');
    expect(maskPii('(555) 123-4567')).toBe('[PHONE ***67]');
    expect(maskPii('555-123-4567')).toBe('[PHONE ***67]');
  });

  it('keeps identifiers, timestamps, cache keys and non-Luhn numbers readable', () => {
    for (const text of [
      '3f1c2a9e-8b7d-4c6e-9f01-23456789abcd',
      'llm:gpt-4o:summary:1',
      '2026-12-02T02:07:23.000Z',
      '1764641243000',
      '1234567890123456',
      'order 12 of 2026',
      '192.168.100.200',
      'v1.2.3',
    ]) {
      expect(maskPii(text)).toBe(text);
    }
  });

  it('masks inside nested values and leaves PII alone when masking is off', () => {
    const input = { notes: ['reach me at a@b.io'], n: 4242424242424242 };
    expect(sanitize(input, on)).toEqual({ notes: ['reach me at a***@b.io'], n: 4242424242424242 });
    expect(sanitize(input, { piiMasking: false })).toEqual(input);
    expect(sanitize({ password: 'x' }, { piiMasking: false })).toEqual({ password: REDACTED });
  });

  it('truncates a payload over the limit with a marker and a preview, never dropping it', () => {
    const big = { data: 'é'.repeat(1000) };
    const out = truncate(big, 100) as {
      _truncated: boolean;
      original_bytes: number;
      preview: string;
    };
    expect(out._truncated).toBe(true);
    expect(out.original_bytes).toBe(Buffer.byteLength(JSON.stringify(big)));
    expect(Buffer.byteLength(out.preview)).toBeLessThanOrEqual(100);
    expect(JSON.stringify(big).startsWith(out.preview)).toBe(true);
    expect(truncate({ a: 1 }, 100)).toEqual({ a: 1 });
    expect(truncate(undefined, 100)).toBeNull();
  });

  it('sanitizes before truncating, so a secret never reaches the preview', () => {
    const out = sanitizePayload(
      { password: 'hunter2'.repeat(50), x: 'y' },
      { ...on, maxBytes: 20 },
    ) as {
      preview: string;
    };
    expect(out.preview).not.toContain('hunter2');
  });

  it('keeps only field names and sizes under AUDIT_PAYLOADS=fields, never a value', () => {
    const body = { session_config: { model: 'x' }, metadata: { note: 'alice-private' }, n: 12 };
    const out = sanitizePayload(body, { ...on, maxBytes: 8192, payloads: 'fields' });
    expect(out).toEqual({ _omitted: true, fields: { session_config: 13, metadata: 24, n: 2 } });
    expect(JSON.stringify(out)).not.toContain('alice-private');
    expect(payloadFields('a scalar payload')).toEqual({ _omitted: true, bytes: 18 });
    expect(payloadFields([1, 2])).toEqual({ _omitted: true, bytes: 5 });
    expect(payloadFields(null)).toBeNull();
    expect(payloadFields(undefined)).toBeNull();
  });
});
