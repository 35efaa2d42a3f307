import { auditScope } from '../audit/audit-scope';
import type { RedisKeyBuilder } from '../keys/redis-key-builder';

/** The actor of changes made outside a request (expiry sweepers, lazy purges on reads). */
export const SYSTEM_ACTOR = 'system';

/** The caller's word for a change where one script serves two operations (see EVENTS_PRELUDE). */
export type ChangeVerb = 'updated' | 'patched' | 'deleted' | 'invalidated';

/** What a script built over EVENTS_PRELUDE takes: the stream key, then actor, retention, verb. */
export interface EventArgs {
  keys: [string];
  args: [actor: string, retentionMs: number, verb: ChangeVerb];
}

/**
 * The event arguments of a write in the current context: inside a request the actor is the token's
 * subject (from the request's audit frame), elsewhere `system`.
 */
export function eventArgs(
  keys: RedisKeyBuilder,
  tenant: string,
  verb: ChangeVerb = 'updated',
): EventArgs {
  const frame = auditScope.getStore();
  return {
    keys: [keys.events(tenant).stream],
    args: [frame?.actor ?? SYSTEM_ACTOR, keys.eventsRetentionMs, verb],
  };
}

/** For purges of expired records: an expiry is nobody's doing, even when a read triggers it. */
export function expiryEventArgs(keys: RedisKeyBuilder, tenant: string): EventArgs {
  return {
    keys: [keys.events(tenant).stream],
    args: [SYSTEM_ACTOR, keys.eventsRetentionMs, 'updated'],
  };
}
