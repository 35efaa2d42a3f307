import { scriptBuilders } from '../audit/audit.lua';
import { FREES_MEMORY, PURGES_EXPIRED, READ_ONLY } from '../lua-script';
import { PURGE_BUDGET_LUA } from '../lua/purge-budget.lua';

/*
 * Cache writes run as Lua so that an entry, the key index and its tag indexes change together.
 *
 * ARGV[1..6] is always the tenant's key layout from CacheKeyspace.scriptLayout(); a script's own
 * arguments start at ARGV[7]. Keys derived from the layout carry the tenant's hash tag, so they
 * share KEYS[1]'s slot by construction (Cluster-safe). Time comes from Redis (TIME), so every
 * replica agrees on "now".
 *
 * Expiry and tag index members are scored by expires_at_ms. Redis drops an expired entry HASH by
 * itself (PEXPIREAT), but not the index members pointing at it; those are trimmed by score, lazily on
 * writes and invalidations, and by the bounded sweeper. Every script does bounded work: the callers
 * loop, so Redis serves other clients between calls.
 */
const PRELUDE = `${PURGE_BUDGET_LUA}
local ENTRY, INDEX, EXPIRY, TAG, TAGS, STATS = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local A = 6
-- Expired tag members removed by one write, per tag it touches (bounded lazy clean-up).
local WRITE_TRIM = 16

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function split(s)
  local out = {}
  if s then
    for part in string.gmatch(s, '[^,]+') do table.insert(out, part) end
  end
  return out
end

-- Removes an entry and every index member pointing at it. Returns 1 when the entry was live.
local function unlink(key, now)
  local e = ENTRY .. key
  local cur = redis.call('HMGET', e, 'expires_at', 'tags')
  for _, tag in ipairs(split(cur[2])) do
    redis.call('ZREM', TAG .. tag, key)
    if redis.call('EXISTS', TAG .. tag) == 0 then redis.call('SREM', TAGS, tag) end
  end
  redis.call('ZREM', INDEX, key)
  redis.call('ZREM', EXPIRY, key)
  local existed = redis.call('DEL', e)
  if existed == 1 and cur[1] and tonumber(cur[1]) > now then return 1 end
  return 0
end

-- Drops up to 'limit' members of a tag index whose entries have expired; forgets an empty tag.
local function trim_tag(tag, now, limit)
  local tk = TAG .. tag
  local dead = redis.call('ZRANGE', tk, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit)
  if #dead > 0 then redis.call('ZREM', tk, unpack(dead)) end
  if redis.call('EXISTS', tk) == 0 then redis.call('SREM', TAGS, tag) end
  return #dead
end

-- Glob match with '*' and '?' (no classes, no escapes). Greedy with one backtrack point, the last
-- '*': O(#s * #p) at worst, never exponential. Mirrors cacheGlobMatches() in cache-glob.ts.
local STAR, QMARK = string.byte('*'), string.byte('?')
local function glob_match(s, p)
  local si, pi, star, mark = 1, 1, 0, 0
  local sl, pl = #s, #p
  while si <= sl do
    local pc = string.byte(p, pi)
    if pc and (pc == QMARK or pc == string.byte(s, si)) then
      si = si + 1; pi = pi + 1
    elseif pc == STAR then
      star = pi; mark = si; pi = pi + 1
    elseif star > 0 then
      pi = star + 1; mark = mark + 1; si = mark
    else
      return false
    end
  end
  while string.byte(p, pi) == STAR do pi = pi + 1 end
  return pi > pl
end

local function has_tag(tags, tag)
  for _, t in ipairs(split(tags)) do
    if t == tag then return true end
  end
  return false
end

-- One bounded step over a tag's index: takes up to 'limit' members off it and deletes the entries
-- still live and still tagged (expired or re-tagged ones only leave the index), each with its
-- event; a drained index leaves the tag set. Returns {members looked at, deleted cache_keys...}.
local function drain_tag_step(tk, tag, limit, now, event_type)
  local members = redis.call('ZRANGE', tk, 0, limit - 1)
  local out = { #members }
  for _, key in ipairs(members) do
    local cur = redis.call('HMGET', ENTRY .. key, 'expires_at', 'tags')
    if cur[1] and tonumber(cur[1]) > now and has_tag(cur[2], tag) then
      if unlink(key, now) == 1 then table.insert(out, key) end
    end
    redis.call('ZREM', tk, key)
  end
  for i = 2, #out do event_append(event_type, 'cache', out[i]) end
  if redis.call('EXISTS', tk) == 0 then redis.call('SREM', TAGS, tag) end
  return out
end
`;

const { script, audited, evented } = scriptBuilders(PRELUDE);

/**
 * KEYS[1]=entry, KEYS[2]=the tenant's registration marker. ARGV: cache_key, data, ttl_ms,
 * only_if_absent ('1'|'0'), tags (comma-joined). Returns {'ok', cached_at, expires_at, 1 when the
 * marker exists} (TenantRegistry.add then needs no EXISTS of its own) | {'exists', expires_at}.
 */
export const SET_CACHE_ENTRY = audited(
  'cache.set',
  `
local e, key, data = KEYS[1], ARGV[A + 1], ARGV[A + 2]
local ttl, nx, tags = tonumber(ARGV[A + 3]), ARGV[A + 4] == '1', ARGV[A + 5]
local now = now_ms()
local cur = redis.call('HMGET', e, 'expires_at', 'tags')
if nx and cur[1] and tonumber(cur[1]) > now then return {'exists', tonumber(cur[1])} end

local carried = {}
for _, tag in ipairs(split(tags)) do carried[tag] = true end
-- A replaced entry leaves the tag indexes it no longer belongs to.
for _, tag in ipairs(split(cur[2])) do
  if not carried[tag] then
    redis.call('ZREM', TAG .. tag, key)
    trim_tag(tag, now, WRITE_TRIM)
  end
end

local expires_at = now + ttl
redis.call('DEL', e)
redis.call('HSET', e, 'data', data, 'cached_at', now, 'updated_at', now, 'expires_at', expires_at, 'tags', tags)
redis.call('PEXPIREAT', e, expires_at)
redis.call('ZADD', INDEX, 0, key)
redis.call('ZADD', EXPIRY, expires_at, key)
for tag in pairs(carried) do
  redis.call('ZADD', TAG .. tag, expires_at, key)
  redis.call('SADD', TAGS, tag)
  trim_tag(tag, now, WRITE_TRIM)
end
event_append('cache.set', 'cache', key)
audit_append({ resource_ids = { key }, cached_at = now, expires_at = expires_at })
return {'ok', now, expires_at, redis.call('EXISTS', KEYS[2])}
`,
);

/**
 * KEYS[1]=the first entry (routes the call to the tenant's slot). ARGV: cache_keys...
 * Returns, per key, {data, cached_at, expires_at, tags} or four empty strings when absent.
 * Read-only: hits and misses are counted in process (CacheStatsBuffer), never here.
 */
export const GET_CACHE_ENTRIES = script(
  'cache.get',
  `
local now = now_ms()
local out = {}
for i = A + 1, #ARGV do
  local cur = redis.call('HMGET', ENTRY .. ARGV[i], 'data', 'cached_at', 'expires_at', 'tags')
  if cur[1] and tonumber(cur[3]) > now then
    table.insert(out, cur[1]); table.insert(out, cur[2]); table.insert(out, cur[3]); table.insert(out, cur[4] or '')
  else
    table.insert(out, ''); table.insert(out, ''); table.insert(out, ''); table.insert(out, '')
  end
end
return out
`,
  READ_ONLY,
);

/**
 * KEYS[1]=entry. ARGV: cache_key, has_data ('1'|'0'), data, ttl_ms ('' = keep the expiry).
 * Returns {'ok', updated_at, expires_at} | {'not_found'}.
 */
export const UPDATE_CACHE_ENTRY = audited(
  'cache.update',
  `
local e, key = KEYS[1], ARGV[A + 1]
local now = now_ms()
local cur = redis.call('HMGET', e, 'expires_at', 'tags')
if not cur[1] or tonumber(cur[1]) <= now then return {'not_found'} end
local expires_at = tonumber(cur[1])
if ARGV[A + 4] ~= '' then expires_at = now + tonumber(ARGV[A + 4]) end
local fields = { 'updated_at', now, 'expires_at', expires_at }
if ARGV[A + 2] == '1' then
  table.insert(fields, 'data'); table.insert(fields, ARGV[A + 3])
end
redis.call('HSET', e, unpack(fields))
redis.call('PEXPIREAT', e, expires_at)
redis.call('ZADD', EXPIRY, expires_at, key)
for _, tag in ipairs(split(cur[2])) do redis.call('ZADD', TAG .. tag, expires_at, key) end
event_append('cache.set', 'cache', key)
audit_append({ resource_ids = { key }, updated_at = now, expires_at = expires_at })
return {'ok', now, expires_at}
`,
);

/**
 * KEYS[1]=key index. ARGV: cache_keys... Deletes each entry with its index members.
 * Returns {now, flag per key (1 = a live entry was deleted)}.
 */
export const DELETE_CACHE_ENTRIES = audited(
  'cache.delete',
  `
local now = now_ms()
local out, deleted = { now }, {}
for i = A + 1, #ARGV do
  local removed = unlink(ARGV[i], now)
  table.insert(out, removed)
  if removed == 1 then table.insert(deleted, ARGV[i]) end
  if removed == 1 then event_change('cache', ARGV[i]) end
end
if #deleted > 0 then audit_append({ resource_ids = deleted, deleted_at = now }) end
return out
`,
  FREES_MEMORY,
);

/**
 * KEYS[1]=tag index. ARGV: tag, limit. Takes up to 'limit' members off the tag index: live entries
 * that still carry the tag are deleted; members left by expired or re-tagged entries are dropped.
 * Every member looked at leaves the index, so repeated calls make progress.
 * Returns {members looked at, deleted cache_keys...}.
 */
export const INVALIDATE_CACHE_TAG = audited(
  'cache.invalidate-tag',
  `
local tk, tag, limit = KEYS[1], ARGV[A + 1], tonumber(ARGV[A + 2])
local now = now_ms()
local out = drain_tag_step(tk, tag, limit, now, 'cache.invalidated')
if #out > 1 then
  audit_append({ resource_ids = { unpack(out, 2) }, tag = tag, deleted_at = now })
end
return out
`,
  FREES_MEMORY,
);

/**
 * KEYS[1]=key index. ARGV: from, to (ZRANGE BYLEX bounds), glob, limit. One bounded step of a
 * pattern invalidation: looks at the next 'limit' keys of the tenant's lexicographic key index
 * (never the keyspace) and deletes the live entries whose key matches the glob. Deleting does not
 * disturb the walk: the caller continues after the last key looked at.
 * Returns {last key looked at ('' when the range is exhausted), deleted cache_keys...}.
 */
export const INVALIDATE_CACHE_PATTERN_STEP = audited(
  'cache.invalidate-pattern',
  `
local glob, limit = ARGV[A + 3], tonumber(ARGV[A + 4])
local now = now_ms()
local page = redis.call('ZRANGE', INDEX, ARGV[A + 1], ARGV[A + 2], 'BYLEX', 'LIMIT', 0, limit)
local out = { #page < limit and '' or page[#page] }
for _, key in ipairs(page) do
  if glob_match(key, glob) and unlink(key, now) == 1 then table.insert(out, key) end
end
for i = 2, #out do event_append('cache.invalidated', 'cache', out[i]) end
if #out > 1 then
  audit_append({ resource_ids = { unpack(out, 2) }, pattern = glob, deleted_at = now })
end
return out
`,
  FREES_MEMORY,
);

/**
 * KEYS[1]=expiry index. ARGV: limit. Removes up to 'limit' expired entries from every index,
 * stopping between chunks once the call has used PURGE_BUDGET_US of Redis' time (an entry with
 * many tags costs a few commands per tag). Returns {entries removed, 1 when either budget ran out
 * else 0}.
 */
export const PURGE_EXPIRED_CACHE = evented(
  'cache.purge',
  `
local started = redis.call('TIME')
local now = now_ms()
local limit = tonumber(ARGV[A + 1])
local dead = redis.call('ZRANGE', EXPIRY, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit)
for first = 1, #dead, PURGE_CHUNK do
  local last = math.min(first + PURGE_CHUNK - 1, #dead)
  for i = first, last do unlink(dead[i], now) end
  for i = first, last do event_append('cache.expired', 'cache', dead[i]) end
  if last < #dead and micros_since(started) >= PURGE_BUDGET_US then return { last, 1 } end
end
return { #dead, #dead == limit and 1 or 0 }
`,
  PURGES_EXPIRED,
);

/**
 * KEYS[1]=tag registry. ARGV: SSCAN cursor, COUNT hint, per-tag limit. Trims expired members of
 * about COUNT tag indexes (entries whose HASH Redis already dropped cannot name their tags, so
 * only their score tells). Returns {next cursor, members removed}.
 */
export const SWEEP_CACHE_TAGS = script(
  'cache.sweep-tags',
  `
local now = now_ms()
local page = redis.call('SSCAN', TAGS, ARGV[A + 1], 'COUNT', ARGV[A + 2])
local removed, limit = 0, tonumber(ARGV[A + 3])
for _, tag in ipairs(page[2]) do removed = removed + trim_tag(tag, now, limit) end
return { page[1], removed }
`,
  PURGES_EXPIRED,
);

/** The prelude, for the backup import scripts (same helpers, same layout). */
export const CACHE_PRELUDE = PRELUDE;
