import { scriptBuilders } from '../audit/audit.lua';
import { FREES_MEMORY, PURGES_EXPIRED } from '../lua-script';
import { RANK_PAGE_LUA } from '../lua/rank-page.lua';
import { memoryPrelude } from '../memory/memory.scripts';

/*
 * Session writes run as Lua so that a record, its four indexes, its membership entry and its expiry
 * entry change together (never half), and so that compare-and-set on `version` happens in Redis.
 *
 * ARGV[1..15] is always the tenant's key layout from SessionKeyspace.scriptLayout() (7 session parts,
 * then the 8 memory parts the cascade needs); a script's own arguments start at ARGV[16]. Index keys are derived in the script from that layout plus the
 * tenant's hash tag, so they share KEYS[1]'s slot by construction (Cluster-safe).
 * Time comes from Redis (TIME), so every replica of the API agrees on "now".
 */
const PRELUDE =
  `
local RECORD, ALL, BY_STATUS, BY_CREATOR, CS_INFIX, MEMBERS, EXPIRY =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local A = 15
` +
  memoryPrelude(7) +
  `

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function index_keys(creator, status)
  return { ALL, BY_STATUS .. status, BY_CREATOR .. creator, BY_CREATOR .. creator .. CS_INFIX .. status }
end

local function membership(id)
  local m = redis.call('HGET', MEMBERS, id)
  if not m then return nil, nil end
  local sep = string.find(m, '\\n', 1, true)
  return string.sub(m, 1, sep - 1), string.sub(m, sep + 1)
end

local function add_to_indexes(id, creator, status, created_at)
  for _, key in ipairs(index_keys(creator, status)) do
    redis.call('ZADD', key, created_at, id)
  end
  redis.call('HSET', MEMBERS, id, creator .. '\\n' .. status)
end

local function remove_from_indexes(id)
  local creator, status = membership(id)
  if creator then
    for _, key in ipairs(index_keys(creator, status)) do
      redis.call('ZREM', key, id)
    end
    redis.call('HDEL', MEMBERS, id)
  end
  redis.call('ZREM', EXPIRY, id)
end

-- Removes expired sessions from every index, with their agent memory, doing at most 'limit' units
-- of work (a session or one of its memory records) and running at most about PURGE_BUDGET_US of
-- Redis' own time, so one call never holds Redis for long however large the backlog, the
-- indexes or a session's memory. Returns how many sessions it removed, and true when either
-- budget ran out (callers count the first and loop on the second). The memory goes first: a session whose
-- memory outlasts the budget stays listed as expired (its record is already gone, so readers never
-- see it) and the next call continues with it. A memory record never outlives its session.
--
-- Sessions go in chunks with one command per index for the whole chunk (variadic ZREM, HDEL,
-- UNLINK), not a dozen commands per session: at 1M entries each command is a skiplist descent, and
-- the per-call cost of redis.call dominated the old script. The clock is read between chunks
-- (TIME in a script is fine with Redis 7's effects replication).

-- Removes sessions ids[first..last] (whose memory is gone) from every index, oldest expiry first.
local function remove_expired_chunk(ids, first, last)
  local chunk = {}
  for i = first, last do chunk[#chunk + 1] = ids[i] end
  local members = redis.call('HMGET', MEMBERS, unpack(chunk))
  local by_key = {}
  for i, id in ipairs(chunk) do
    local m = members[i]
    if m then
      local sep = string.find(m, '\\n', 1, true)
      for _, key in ipairs(index_keys(string.sub(m, 1, sep - 1), string.sub(m, sep + 1))) do
        local ids_of_key = by_key[key]
        if not ids_of_key then
          ids_of_key = {}
          by_key[key] = ids_of_key
        end
        ids_of_key[#ids_of_key + 1] = id
      end
    end
  end
  for key, ids_of_key in pairs(by_key) do redis.call('ZREM', key, unpack(ids_of_key)) end
  redis.call('HDEL', MEMBERS, unpack(chunk))
  -- The chunk is the head of EXPIRY (ZRANGE from -inf, earlier chunks already gone): drop it by
  -- rank, one descent instead of one lookup per id.
  redis.call('ZREMRANGEBYRANK', EXPIRY, 0, #chunk - 1)
  local records = {}
  for i, id in ipairs(chunk) do records[i] = RECORD .. id end
  -- Normally gone already (Redis expired them); UNLINK frees a large one off the main thread.
  redis.call('UNLINK', unpack(records))
  event_append_each('session.expired', 'session', chunk)
  return #chunk
end

local function purge_expired(now, limit)
  local started = redis.call('TIME')
  local ids = redis.call('ZRANGE', EXPIRY, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit)
  local work, removed, first = 0, 0, 1
  while first <= #ids do
    local last = math.min(first + PURGE_CHUNK - 1, #ids)
    local spaces = {}
    for i = first, last do spaces[#spaces + 1] = M_SESSION .. ids[i] end
    if redis.call('EXISTS', unpack(spaces)) > 0 then
      for i = first, last do
        -- A session's memory goes a chunk at a time, with a look at the clock after each (only
        -- after progress, so every call removes something).
        local took, step
        repeat
          step = math.min(limit - work, PURGE_CHUNK)
          took = m_cascade_bounded(ids[i], step, 'memory.expired')
          work = work + took
          if work >= limit or (took > 0 and micros_since(started) >= PURGE_BUDGET_US) then
            if i > first then removed = removed + remove_expired_chunk(ids, first, i - 1) end
            return removed, true
          end
        until took < step
      end
    end
    local n = remove_expired_chunk(ids, first, last)
    work, removed, first = work + n, removed + n, last + 1
    if first <= #ids and micros_since(started) >= PURGE_BUDGET_US then return removed, true end
  end
  return removed, removed == limit
end
`;

const { audited, evented } = scriptBuilders(PRELUDE);

/**
 * KEYS[1]=all-index, KEYS[2]=the tenant's registration marker. ARGV: count, then per session 9
 * fields. Returns {'ok', created_at (ms), 1 when the marker exists} (TenantRegistry.add then needs
 * no EXISTS of its own), or {'exists', id} (nothing written) when a record of one of the ids is
 * already there: ids derived from an Idempotency-Key make a retried create land here instead of
 * overwriting.
 */
export const CREATE_SESSIONS = audited(
  'session.create',
  `
local now = now_ms()
local count = tonumber(ARGV[A + 1])
for i = 0, count - 1 do
  local id = ARGV[A + 2 + i * 9]
  if redis.call('EXISTS', RECORD .. id) == 1 then return {'exists', id} end
end
local ids = {}
for i = 0, count - 1 do
  local o = A + 2 + i * 9
  local id, creator_key, created_by, status = ARGV[o], ARGV[o + 1], ARGV[o + 2], ARGV[o + 3]
  table.insert(ids, id)
  local config, metadata, ttl_ms = ARGV[o + 4], ARGV[o + 5], tonumber(ARGV[o + 6])
  local key = RECORD .. id
  local expires_at = now + ttl_ms
  redis.call('HSET', key,
    'config', config, 'metadata', metadata, 'status', status, 'created_by', created_by,
    'created_at', now, 'updated_at', now, 'status_updated_at', now, 'status_updated_by', created_by,
    'expires_at', expires_at, 'ttl_ms', ttl_ms, 'version', 1,
    'config_bytes', ARGV[o + 7], 'metadata_bytes', ARGV[o + 8])
  redis.call('PEXPIREAT', key, expires_at)
  add_to_indexes(id, creator_key, status, now)
  redis.call('ZADD', EXPIRY, expires_at, id)
  event_append('session.created', 'session', id, 1)
end
audit_append({ resource_ids = ids, version = 1, created_at = now })
return {'ok', now, redis.call('EXISTS', KEYS[2])}
`,
);

/**
 * KEYS[1]=record. ARGV: id, expected version ('' = any), max payload bytes,
 * has_config, config, config_bytes, has_metadata, metadata, metadata_bytes, status ('' = keep),
 * status_updated_by ('' = keep), then optionally (merge patch) config_cas, config_raw, metadata_cas,
 * metadata_raw: with cas '1' the field is written only if it still holds exactly raw as read.
 * Returns {'ok', version, updated_at, expires_at, status, previous status, created_at} |
 * {'not_found'} | {'version_mismatch', v} | {'too_large', bytes} | {'conflict'}.
 */
export const UPDATE_SESSION = audited(
  'session.update',
  `
local key, id = KEYS[1], ARGV[A + 1]
local expected, max_bytes = ARGV[A + 2], tonumber(ARGV[A + 3])
local cur = redis.call('HMGET', key, 'version', 'status', 'config_bytes', 'metadata_bytes', 'ttl_ms', 'created_at')
if not cur[1] then return {'not_found'} end
if expected ~= '' and expected ~= cur[1] then return {'version_mismatch', tonumber(cur[1])} end
if ARGV[A + 12] == '1' and redis.call('HGET', key, 'config') ~= ARGV[A + 13] then return {'conflict'} end
if ARGV[A + 14] == '1' and redis.call('HGET', key, 'metadata') ~= ARGV[A + 15] then return {'conflict'} end

local has_config, has_metadata = ARGV[A + 4] == '1', ARGV[A + 7] == '1'
local config_bytes = has_config and tonumber(ARGV[A + 6]) or tonumber(cur[3])
local metadata_bytes = has_metadata and tonumber(ARGV[A + 9]) or tonumber(cur[4])
if config_bytes + metadata_bytes > max_bytes then return {'too_large', config_bytes + metadata_bytes} end

local now = now_ms()
local expires_at = now + tonumber(cur[5])
local fields = { 'updated_at', now, 'expires_at', expires_at }
if has_config then
  table.insert(fields, 'config'); table.insert(fields, ARGV[A + 5])
  table.insert(fields, 'config_bytes'); table.insert(fields, config_bytes)
end
if has_metadata then
  table.insert(fields, 'metadata'); table.insert(fields, ARGV[A + 8])
  table.insert(fields, 'metadata_bytes'); table.insert(fields, metadata_bytes)
end
local status, updated_by = ARGV[A + 10], ARGV[A + 11]
if status ~= '' then
  table.insert(fields, 'status'); table.insert(fields, status)
  table.insert(fields, 'status_updated_at'); table.insert(fields, now)
  if updated_by ~= '' then
    table.insert(fields, 'status_updated_by'); table.insert(fields, updated_by)
  end
  local creator = membership(id)
  if status ~= cur[2] and creator then
    remove_from_indexes(id)
    add_to_indexes(id, creator, status, tonumber(cur[6]))
  end
end
redis.call('HSET', key, unpack(fields))
local version = redis.call('HINCRBY', key, 'version', 1)
redis.call('PEXPIREAT', key, expires_at)
redis.call('ZADD', EXPIRY, expires_at, id)
event_change('session', id, version)
audit_append({ resource_ids = { id }, version = version, updated_at = now,
  status = status ~= '' and status or nil, previous_status = status ~= '' and cur[2] or nil })
return {'ok', version, now, expires_at, status ~= '' and status or cur[2], cur[2] or '', tonumber(cur[6]) or 0}
`,
);

/**
 * KEYS[1]=all-index. ARGV: expected version ('' = any; only meaningful for one id), ids...
 * Deletes each session's agent memory (records and index entries) in the same step.
 * Returns {'ok', deleted_at, memory records deleted, flag per id (1 deleted, 0 missing), then per
 * id its status and created_at before the delete ('' and 0 when missing)} | {'version_mismatch', v}.
 */
export const DELETE_SESSIONS = audited(
  'session.delete',
  `
local expected = ARGV[A + 1]
if expected ~= '' then
  local version = redis.call('HGET', RECORD .. ARGV[A + 2], 'version')
  if version and version ~= expected then return {'version_mismatch', tonumber(version)} end
end
local result = { 'ok', now_ms(), 0 }
local deleted, before = {}, {}
for i = A + 2, #ARGV do
  local id = ARGV[i]
  local was = redis.call('HMGET', RECORD .. id, 'status', 'created_at')
  table.insert(before, was[1] or ''); table.insert(before, tonumber(was[2]) or 0)
  local existed = redis.call('DEL', RECORD .. id)
  -- Also clears index entries left by a record that expired but was not yet swept.
  remove_from_indexes(id)
  result[3] = result[3] + m_cascade(id)
  table.insert(result, existed)
  if existed == 1 then table.insert(deleted, id) end
  if existed == 1 then event_append('session.deleted', 'session', id) end
end
if #deleted > 0 or result[3] > 0 then
  audit_append({ resource_ids = deleted, memory_records_deleted = result[3], deleted_at = result[2] })
end
for _, value in ipairs(before) do table.insert(result, value) end
return result
`,
  FREES_MEMORY,
);

/**
 * KEYS[1]=the index answering the filter. ARGV: min, max (ms or -inf/+inf), order (asc|desc),
 * offset, limit, cursor score ('' = none), cursor id, purge limit.
 * Paging is by rank, so a page costs O(log N + page size) whatever the offset.
 * Returns {'retry'} when more expired sessions wait than one purge may take, else
 * {'ok', total, has_more, id1, score1, record1, ...}.
 */
export const LIST_SESSIONS = evented(
  'session.list',
  `${RANK_PAGE_LUA}
local now = now_ms()
local purge_limit = tonumber(ARGV[A + 8])
local _, purge_more = purge_expired(now, purge_limit)
if purge_more then
  if #redis.call('ZRANGE', EXPIRY, '-inf', now, 'BYSCORE', 'LIMIT', 0, 1) > 0 then return {'retry'} end
end

local total, has_more, page = rank_page(KEYS[1], ARGV[A + 1], ARGV[A + 2], ARGV[A + 3] == 'desc',
  tonumber(ARGV[A + 4]), tonumber(ARGV[A + 5]), ARGV[A + 6], ARGV[A + 7])
local out = { 'ok', total, has_more }
for i = 1, #page, 2 do
  table.insert(out, page[i])
  table.insert(out, page[i + 1])
  table.insert(out, redis.call('HGETALL', RECORD .. page[i]))
end
return out
`,
  // Reads; the only writes are purges of expired records, which free memory.
  PURGES_EXPIRED,
);

/**
 * KEYS[1]=expiry index. ARGV: limit. Returns {expired sessions removed, 1 when it stopped with work
 * left else 0}.
 */
export const PURGE_EXPIRED_SESSIONS = evented(
  'session.purge',
  `
local removed, more = purge_expired(now_ms(), tonumber(ARGV[A + 1]))
return { removed, more and 1 or 0 }
`,
  PURGES_EXPIRED,
);

/** The prelude, for the backup import scripts (same helpers, same layout). */
export const SESSION_PRELUDE = PRELUDE;
