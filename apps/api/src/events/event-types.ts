/** Every change event type the feed carries (see EVENTS_PRELUDE for where each is appended). */
export const EVENT_TYPES = [
  'session.created',
  'session.updated',
  'session.patched',
  'session.deleted',
  'session.expired',
  'memory.created',
  'memory.updated',
  'memory.patched',
  'memory.deleted',
  'memory.expired',
  'cache.set',
  'cache.invalidated',
  'cache.deleted',
  'cache.expired',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const EVENT_RESOURCE_TYPES = ['session', 'memory', 'cache'] as const;
export type EventResourceType = (typeof EVENT_RESOURCE_TYPES)[number];
