import { redactUrl } from './log-serializers';

describe('redactUrl', () => {
  it('leaves URLs without credentials alone', () => {
    expect(redactUrl('/api/v1/sessions/abc')).toBe('/api/v1/sessions/abc');
    expect(redactUrl('/api/v1/sessions?limit=5&status=active')).toBe(
      '/api/v1/sessions?limit=5&status=active',
    );
  });

  it('replaces the values of credential parameters, keeping the others', () => {
    expect(redactUrl('/x?access_token=abc&limit=5&api_key=k&Token=t&client_secret=s')).toBe(
      '/x?access_token=[redacted]&limit=5&api_key=[redacted]&Token=[redacted]&client_secret=[redacted]',
    );
  });

  it('recognises percent-encoded names and survives malformed escapes', () => {
    expect(redactUrl('/x?%74oken=abc')).toBe('/x?%74oken=[redacted]');
    expect(redactUrl('/x?%E0%A4%A=1&password=p')).toBe('/x?%E0%A4%A=1&password=[redacted]');
  });
});
