import { FREES_MEMORY, LuaScript, type LuaScriptOptions } from '../lua-script';

/*
 * Delivery state changes are fenced by the webhook's lease: each script first checks that the
 * lease still holds the caller's token, so a replica that stalled past its lease (GC pause, slow
 * receiver) cannot move the cursor or park anything after another replica took over.
 *
 * None of them waits for Redis replicas (REDIS_MIN_REPLICAS_ACK): delivery is at least once, so a
 * lease, retry or cursor move lost in a failover means an event delivered again, and waiting would
 * stop every delivery while a replica is down (see replicated-write.ts for the rule).
 */
const DELIVERY_BOOKKEEPING: LuaScriptOptions = { awaitReplicas: false };

/** KEYS[1]=lease. ARGV: token, ttl ms. Takes a free lease or renews our own. Returns 1 | 0. */
export const TAKE_WEBHOOK_LEASE = new LuaScript(
  'webhook.lease',
  `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`,
  DELIVERY_BOOKKEEPING,
);

/** KEYS[1]=lease. ARGV: token. */
export const RELEASE_WEBHOOK_LEASE = new LuaScript(
  'webhook.release',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`,
  { ...FREES_MEMORY, ...DELIVERY_BOOKKEEPING },
);

/** KEYS: lease, retry. ARGV: token, event_id, attempts, next_at, last_error. Returns 1 | 0. */
export const RECORD_WEBHOOK_RETRY = new LuaScript(
  'webhook.retry',
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'event_id', ARGV[2], 'attempts', ARGV[3], 'next_at', ARGV[4], 'last_error', ARGV[5])
return 1
`,
  DELIVERY_BOOKKEEPING,
);

/**
 * KEYS: lease, cursor, retry, dead, dead order. ARGV: token, event_id, park ('1'|'0'), parked JSON,
 * parked_at. Moves the cursor past the event (parking it first), clears the retry. Returns 1 | 0.
 */
export const ADVANCE_WEBHOOK = new LuaScript(
  'webhook.advance',
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[4], ARGV[2], ARGV[4])
  redis.call('ZADD', KEYS[5], ARGV[5], ARGV[2])
end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[3])
return 1
`,
  DELIVERY_BOOKKEEPING,
);

/**
 * KEYS: lease, dead, dead order. ARGV: token, delivery id, failed ('1'|'0'), parked JSON.
 * Delivered: the parked entry goes. Failed again: it stays, with its new attempt count and error.
 */
export const SETTLE_WEBHOOK_REDELIVERY = new LuaScript(
  'webhook.settle-redelivery',
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == '1' then
  if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then redis.call('HSET', KEYS[2], ARGV[2], ARGV[4]) end
else
  redis.call('HDEL', KEYS[2], ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[2])
end
return 1
`,
  DELIVERY_BOOKKEEPING,
);
