import { auditedRoute, resourceIdOf } from './audit-operations';
import { entryHash, toView, traceIdOf } from './audit-record';

describe('audited routes', () => {
  it('names the routes of the API and derives a name for routes added later', () => {
    expect(auditedRoute('POST', '/api/v1/sessions')).toEqual({
      resourceType: 'session',
      operation: 'create',
      read: false,
    });
    expect(auditedRoute('PUT', '/api/v1/sessions/:session_id/status')?.operation).toBe(
      'status_update',
    );
    expect(auditedRoute('POST', '/api/v1/cache/batch-get')?.read).toBe(true);
    expect(auditedRoute('GET', '/api/v1/audit/export')?.read).toBe(false);
    expect(auditedRoute('DELETE', '/api/v1/widgets/:id')).toEqual({
      resourceType: 'widget',
      operation: 'delete',
      read: false,
    });
    expect(auditedRoute('GET', '/api/v1/health/ready')).toBeNull();
    expect(auditedRoute('GET', '/metrics')).toBeNull();
    expect(auditedRoute('GET', undefined)).toBeNull();
  });

  it('takes resource_id from the path parameters', () => {
    expect(resourceIdOf({ agent_id: 'a1', session_id: 's1' })).toBe('a1/s1');
    expect(resourceIdOf({ session_id: 's1' })).toBe('s1');
    expect(resourceIdOf({ cache_key: 'k:1' })).toBe('k:1');
    expect(resourceIdOf({})).toBeNull();
    expect(resourceIdOf(undefined)).toBeNull();
  });
});

describe('audit records', () => {
  it('reads the trace id of a W3C traceparent header', () => {
    expect(traceIdOf('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
    expect(traceIdOf('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeNull();
    expect(traceIdOf('garbage')).toBeNull();
    expect(traceIdOf(undefined)).toBeNull();
  });

  it('merges what Node and the script recorded, and survives a damaged entry', () => {
    const entry = {
      id: '1764641243000-0',
      seq: 3,
      ts: 1764641243000,
      rec: JSON.stringify({
        operation: 'batch_delete',
        resource_type: 'session',
        resource_id: null,
      }),
      out: JSON.stringify({ resource_ids: ['a', 'b'], deleted_at: 1 }),
      prev: 'p',
      hash: 'h',
    };
    expect(toView(entry)).toMatchObject({
      event_id: entry.id,
      sequence: 3,
      timestamp: '2025-12-02T02:07:23.000Z',
      operation: 'batch_delete',
      resource_id: null,
      resource_ids: ['a', 'b'],
      response_data: { deleted_at: 1 },
      committed_with_change: true,
    });
    expect(toView({ ...entry, rec: 'not json', out: '' })).toMatchObject({
      operation: 'unknown',
      resource_ids: [],
      committed_with_change: false,
    });
    expect(entryHash(entry)).toMatch(/^[0-9a-f]{40}$/);
    expect(entryHash({ ...entry, out: '' })).not.toBe(entryHash(entry));
  });
});
