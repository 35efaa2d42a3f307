import type { AppConfig } from '../config/app-config';
import { EventAccess } from './event-access';
import { toEventView, type EventDto } from './event-view';

const config = {
  auth: {
    rolePermissions: {
      admin: ['*'],
      orchestrator: ['sessions:read', 'memory:read', 'cache:read', 'events:read'],
      analyst: ['sessions:read', 'memory:read', 'events:read'],
      agent: ['sessions:read', 'memory:read', 'cache:read', 'events:read'],
    },
    scopePermissions: { read: ['sessions:read', 'events:read'] },
  },
} as unknown as AppConfig;

function event(type: string, resourceType: string, resourceId: string): EventDto {
  return toEventView('acme', { id: '1-0', type, resourceType, resourceId, version: 1, actor: 'x' });
}

const session = event('session.created', 'session', 's1');
const ownMemory = event('memory.created', 'memory', 'agent-a:s1');
const otherMemory = event('memory.created', 'memory', 'agent-b:s1');
const encodedMemory = event('memory.patched', 'memory', 'ns%3Aagent:s1');
const cache = event('cache.set', 'cache', 'k1');

describe('EventAccess: a subscriber sees what it could read', () => {
  const access = new EventAccess(config);

  it('names memory records <agent_id>/<session_id>, decoding the stored agent', () => {
    expect(ownMemory.resource_id).toBe('agent-a/s1');
    expect(encodedMemory.resource_id).toBe('ns:agent/s1');
  });

  it('shows an agent-only token its own memory records, not other agents', () => {
    const visible = access.visibleTo({ sub: 'agent-a', roles: ['agent'], tenant: 'acme' }, {});
    expect([session, ownMemory, otherMemory, cache].map(visible)).toEqual([
      true,
      true,
      false,
      true,
    ]);
  });

  it('hides resource types the caller cannot read (role, then scopes)', () => {
    const analyst = access.visibleTo({ sub: 'a', roles: ['analyst'], tenant: 'acme' }, {});
    expect([session, otherMemory, cache].map(analyst)).toEqual([true, true, false]);
    const scoped = access.visibleTo(
      { sub: 'k', roles: ['orchestrator'], tenant: 'acme', scopes: ['read'] },
      {},
    );
    expect([session, otherMemory, cache].map(scoped)).toEqual([true, false, false]);
  });

  it('applies the types, resource_type and resource_id filters', () => {
    const admin = { sub: 'root', roles: ['admin' as const], tenant: 'acme' };
    const byType = access.visibleTo(admin, { types: new Set(['cache.set']) });
    expect([session, cache].map(byType)).toEqual([false, true]);
    const byResource = access.visibleTo(admin, {
      resourceType: 'memory',
      resourceId: 'agent-b/s1',
    });
    expect([ownMemory, otherMemory, session].map(byResource)).toEqual([false, true, false]);
  });
});
