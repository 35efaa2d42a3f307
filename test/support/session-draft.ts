import type { NewSession } from '@app/redis/sessions/session.repository';
import { randomUUID } from 'node:crypto';

/** A session for repository tests: a fresh id, an hour to live, anything else overridable. */
export function sessionDraft(overrides: Partial<NewSession> = {}): NewSession {
  return {
    id: randomUUID(),
    config: { agents: ['a'] },
    metadata: {},
    status: 'created',
    createdBy: 'user-1',
    ttlSeconds: 3600,
    ...overrides,
  };
}
