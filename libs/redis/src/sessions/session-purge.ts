import type { RedisClient } from '../connection/redis-client.factory';
import type { EventArgs } from '../events/event-args';
import type { SessionKeyspace } from '../keys/redis-key-builder';
import { purgeResultOf, type PurgeResult } from '../purge-result';
import { storeCall } from '../store-errors';
import { PURGE_EXPIRED_SESSIONS } from './session.scripts';

/**
 * Removes up to `limit` expired sessions of one tenant from every index, with their agent memory
 * (one script call); returns how many sessions, and whether expired ones are left. Shared by the session and memory repositories.
 */
export async function purgeExpiredSessions(
  redis: RedisClient,
  space: SessionKeyspace,
  limit: number,
  events: EventArgs,
): Promise<PurgeResult> {
  const reply = await storeCall(() =>
    PURGE_EXPIRED_SESSIONS.run(
      redis,
      [...events.keys, space.expiry],
      [...events.args, ...space.scriptLayout(), limit],
    ),
  );
  return purgeResultOf(reply);
}
