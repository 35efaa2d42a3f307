import { REDACTED, redactQuery, redactRequestRecord, redactUrl } from './redact-url';

describe('redactUrl', () => {
  it.each([
    ['/api/v1/sessions?access_token=eyJ.abc.def', `/api/v1/sessions?access_token=${REDACTED}`],
    ['/x?limit=5&token=t0k&offset=2', `/x?limit=5&token=${REDACTED}&offset=2`],
    [
      '/x?api_key=masa_123&x-api-key=k&apikey=k',
      `/x?api_key=${REDACTED}&x-api-key=${REDACTED}&apikey=${REDACTED}`,
    ],
    [
      '/x?client_secret=s&refresh_token=r&password=p',
      `/x?client_secret=${REDACTED}&refresh_token=${REDACTED}&password=${REDACTED}`,
    ],
    ['/x?ACCESS_TOKEN=a&Secret=b', `/x?ACCESS_TOKEN=${REDACTED}&Secret=${REDACTED}`],
    ['/x?access%5Ftoken=a', `/x?access%5Ftoken=${REDACTED}`],
    ['/x?token=a#frag', `/x?token=${REDACTED}#frag`],
    ['redis://default:hunter2@redis:6379/0', `redis://default:${REDACTED}@redis:6379/0`],
    ['https://sk_live_123@api.example/x', `https://${REDACTED}@api.example/x`],
  ])('%s → %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it('leaves URLs without credentials exactly as they were', () => {
    for (const url of [
      '/api/v1/sessions?limit=10&created_by=user-42&status=running',
      '/api/v1/memory/agents?agent_ids=a,b&session_ids=x',
      '/api/v1/cache/tool:search:q=lisbon',
      '/api/v1/health',
      '/x?flag&tokenize',
    ]) {
      expect(redactUrl(url)).toBe(url);
    }
  });
});

describe('redactQuery / redactRequestRecord', () => {
  it('redacts credential parameters of a parsed query and of a pino request record', () => {
    expect(redactQuery({ access_token: 'a', limit: '5' })).toEqual({
      access_token: REDACTED,
      limit: '5',
    });
    expect(redactQuery(undefined)).toBeUndefined();
    const record = redactRequestRecord({
      method: 'GET',
      url: '/api/v1/sessions?api_key=k&limit=2',
      query: { api_key: 'k', limit: '2' },
    });
    expect(record).toEqual({
      method: 'GET',
      url: `/api/v1/sessions?api_key=${REDACTED}&limit=2`,
      query: { api_key: REDACTED, limit: '2' },
    });
  });
});

describe('redactUrl on request-log URLs', () => {
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
