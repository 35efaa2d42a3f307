import type { RedisClient } from '../connection/redis-client.factory';
import type { EventArgs } from '../events/event-args';
import type { SessionKeyspace } from '../keys/redis-key-builder';
import { storeCall } from '../store-errors';
import { PURGE_EXPIRED_SESSIONS } from './session.scripts';

/**
 * Removes up to `limit` expired sessions of one tenant from every index, with their agent memory
 * (one script call); returns how many. Shared by the session and memory repositories.
 */
export async function purgeExpiredSessions(
  redis: RedisClient,
  space: SessionKeyspace,
  limit: number,
  events: EventArgs,
): Promise<number> {
  const removed = await storeCall(() =>
    PURGE_EXPIRED_SESSIONS.run(
      redis,
      [...events.keys, space.expiry],
      [...events.args, ...space.scriptLayout(), limit],
    ),
  );
  return Number(removed);
}
