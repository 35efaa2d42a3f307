import { primaries, type RedisClient } from './redis-client.factory';

/**
 * Redis must keep every key until we delete it: an evicted record leaves its index entries behind
 * (ghosts in lists and counts) and an evicted index loses records from lists. Only `noeviction`
 * keeps that promise; under it a full Redis refuses writes (507) instead of losing data.
 */
export const REQUIRED_EVICTION_POLICY = 'noeviction';

export class EvictionPolicyError extends Error {
  constructor(readonly policies: string[]) {
    super(
      `Redis maxmemory-policy is ${policies.join(', ')}; it must be ${REQUIRED_EVICTION_POLICY} ` +
        '(evicted keys would leave index entries behind). Set it on the server ' +
        `(CONFIG SET maxmemory-policy ${REQUIRED_EVICTION_POLICY}, or in redis.conf) or start with ` +
        'REDIS_EVICTION_POLICY_CHECK=warn to accept the risk.',
    );
    this.name = 'EvictionPolicyError';
  }
}

/** The maxmemory-policy of every primary, read from INFO (CONFIG may be disabled on managed Redis). */
export async function readEvictionPolicies(client: RedisClient): Promise<string[]> {
  const policies = await Promise.all(
    primaries(client).map(
      async (node) => /^maxmemory_policy:(\S+)/m.exec(await node.info('memory'))?.[1],
    ),
  );
  return [...new Set(policies.filter((policy): policy is string => policy !== undefined))];
}

/** The policies that may evict keys; empty when every primary runs noeviction. */
export async function evictingPolicies(client: RedisClient): Promise<string[]> {
  return (await readEvictionPolicies(client)).filter(
    (policy) => policy !== REQUIRED_EVICTION_POLICY,
  );
}
