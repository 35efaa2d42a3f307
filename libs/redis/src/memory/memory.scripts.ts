import { auditedScript, scriptBuilders } from '../audit/audit.lua';
import { FREES_MEMORY, PURGES_EXPIRED, READ_ONLY } from '../lua-script';
import { PURGE_BUDGET_LUA } from '../lua/purge-budget.lua';
import { RANK_PAGE_LUA } from '../lua/rank-page.lua';

/*
 * Agent memory writes run as Lua so that a record, its data and size hashes, its four index entries,
 * its membership entry and its expiry entry change together (never half), and so that If-Match and
 * the merge-patch compare-and-set happen in Redis.
 *
 * ARGV[1..8] is the tenant's memory key layout from MemoryKeyspace.scriptLayout(); a script's own
 * arguments start at ARGV[9]. Every key is derived from that layout, so it shares KEYS[1]'s slot
 * (the tenant hash tag) by construction. A record is named by its member `<encoded agent>:<session>`.
 */

/**
 * Helpers shared with the session scripts (the session delete and purge cascade into memory), the
 * purge time budget included. `offset` is where the memory layout starts in ARGV.
 */
export function memoryPrelude(offset: number): string {
  const at = (i: number) => `ARGV[${offset + i}]`;
  return `${PURGE_BUDGET_LUA}
local M_REC, M_DATA, M_SIZE, M_AGENT, M_TYPE, M_SESSION, M_MEMBERS, M_EXPIRY =
  ${at(1)}, ${at(2)}, ${at(3)}, ${at(4)}, ${at(5)}, ${at(6)}, ${at(7)}, ${at(8)}

local function m_split(member)
  local sep = string.find(member, ':', 1, true)
  return string.sub(member, 1, sep - 1), string.sub(member, sep + 1)
end

-- Removes one record and every index entry naming it; returns 1 if the record was live.
local function m_remove(member)
  local agent, session = m_split(member)
  local mtype = redis.call('HGET', M_MEMBERS, member)
  if mtype then
    redis.call('ZREM', M_AGENT .. agent .. M_TYPE .. mtype, session)
    redis.call('ZREM', M_SESSION .. session .. M_TYPE .. mtype, agent)
    redis.call('HDEL', M_MEMBERS, member)
  end
  redis.call('ZREM', M_AGENT .. agent, session)
  redis.call('ZREM', M_SESSION .. session, agent)
  redis.call('ZREM', M_EXPIRY, member)
  redis.call('DEL', M_DATA .. member, M_SIZE .. member)
  return redis.call('DEL', M_REC .. member)
end

-- Removes every memory record of a session (the session is being deleted or has expired).
-- expired_type: the event of each record when the session expired (nil: deleted).
local function m_cascade(session, expired_type)
  local agents = redis.call('ZRANGE', M_SESSION .. session, 0, -1)
  local removed = 0
  for _, agent in ipairs(agents) do
    local gone = m_remove(agent .. ':' .. session)
    if gone == 1 or expired_type then event_append(expired_type or 'memory.deleted', 'memory', agent .. ':' .. session) end
    removed = removed + gone
  end
  return removed
end

-- Removes up to 'budget' (> 0) memory records of a session, oldest agents first by name; returns
-- how many index entries it took. The session's index is gone once every record is. Each record
-- leaves its event, as in m_cascade.
local function m_cascade_bounded(session, budget, expired_type)
  local agents = redis.call('ZRANGE', M_SESSION .. session, 0, budget - 1)
  for _, agent in ipairs(agents) do
    local gone = m_remove(agent .. ':' .. session)
    if gone == 1 or expired_type then event_append(expired_type or 'memory.deleted', 'memory', agent .. ':' .. session) end
  end
  return #agents
end

-- Removes up to 'limit' expired records, stopping between chunks of PURGE_CHUNK once the call has
-- used PURGE_BUDGET_US of Redis' time (m_remove is about ten commands a record). Returns how many
-- it removed, and true when either budget ran out (callers count the first, loop on the second).
local function m_purge_expired(now, limit)
  local started = redis.call('TIME')
  local members = redis.call('ZRANGE', M_EXPIRY, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit)
  for first = 1, #members, PURGE_CHUNK do
    local last = math.min(first + PURGE_CHUNK - 1, #members)
    for i = first, last do m_remove(members[i]) end
    for i = first, last do event_append('memory.expired', 'memory', members[i]) end
    if last < #members and micros_since(started) >= PURGE_BUDGET_US then return last, true end
  end
  return #members, #members == limit
end
`;
}

const PRELUDE =
  `
local A = 8

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
` +
  memoryPrelude(0) +
  `
-- Writes n (field, encoded value, bytes) triples starting at ARGV[first].
local function write_fields(member, first, n)
  for i = 0, n - 1 do
    local o = first + i * 3
    redis.call('HSET', M_DATA .. member, ARGV[o], ARGV[o + 1])
    redis.call('HSET', M_SIZE .. member, ARGV[o], ARGV[o + 2])
  end
end

local function expire_all(member, at)
  redis.call('PEXPIREAT', M_REC .. member, at)
  redis.call('PEXPIREAT', M_DATA .. member, at)
  redis.call('PEXPIREAT', M_SIZE .. member, at)
  redis.call('ZADD', M_EXPIRY, at, member)
end

-- Returns true when expired records wait beyond what one purge may take (caller purges, retries).
local function purge_or_retry(now, limit)
  local _, more = m_purge_expired(now, limit)
  if more then
    return #redis.call('ZRANGE', M_EXPIRY, '-inf', now, 'BYSCORE', 'LIMIT', 0, 1) > 0
  end
  return false
end
`;

const { script, audited, evented } = scriptBuilders(PRELUDE);

/**
 * KEYS[1]=record. ARGV: agent (encoded), session, session record key, memory_id, agent_id,
 * memory_type, created_by, ttl_ms, data_bytes, n, then n (field, value, bytes).
 * Returns {'ok', created_at, expires_at} | {'session_not_found'} | {'exists', memory_id}.
 */
export const CREATE_MEMORY = audited(
  'memory.create',
  `
local agent, session = ARGV[A + 1], ARGV[A + 2]
local member = agent .. ':' .. session
if redis.call('EXISTS', ARGV[A + 3]) == 0 then return {'session_not_found'} end
local rec = M_REC .. member
if redis.call('EXISTS', rec) == 1 then return {'exists', redis.call('HGET', rec, 'memory_id')} end
-- Leftover index entries of an expired record of the same pair (not swept yet) go first.
m_remove(member)
local now = now_ms()
local ttl = tonumber(ARGV[A + 8])
local expires_at = now + ttl
local mtype = ARGV[A + 6]
redis.call('HSET', rec,
  'memory_id', ARGV[A + 4], 'agent_id', ARGV[A + 5], 'session_id', session, 'memory_type', mtype,
  'created_by', ARGV[A + 7], 'updated_by', ARGV[A + 7], 'created_at', now, 'updated_at', now,
  'expires_at', expires_at, 'ttl_ms', ttl, 'version', 1, 'data_bytes', ARGV[A + 9])
write_fields(member, A + 11, tonumber(ARGV[A + 10]))
redis.call('ZADD', M_AGENT .. agent, now, session)
redis.call('ZADD', M_AGENT .. agent .. M_TYPE .. mtype, now, session)
redis.call('ZADD', M_SESSION .. session, now, agent)
redis.call('ZADD', M_SESSION .. session .. M_TYPE .. mtype, now, agent)
redis.call('HSET', M_MEMBERS, member, mtype)
expire_all(member, expires_at)
event_append('memory.created', 'memory', member, 1)
audit_append({ resource_ids = { ARGV[A + 5] .. '/' .. session }, memory_id = ARGV[A + 4],
  memory_type = mtype, version = 1, created_at = now })
return {'ok', now, expires_at}
`,
);

/**
 * KEYS[1]=record, KEYS[2]=the session's record (no session, no write). One script for PUT
 * (replace) and PATCH (merge):
 * ARGV: agent, session, expected version ('' = any), max data bytes, updated_by ('' = keep),
 * memory_type ('' = keep), replace ('1' = drop every stored field first),
 * n_set then (field, value, bytes)*, n_del then field*, n_cas then (field, present '1'|'0', raw)*.
 * A CAS entry says "this field still holds exactly `raw`" (or is still absent): the merge of a
 * nested object was computed in Node from that value, so it is written only if nobody changed it.
 * Returns {'ok', version, updated_at, expires_at, memory_id} | {'not_found'} |
 * {'version_mismatch', v} | {'too_large', bytes} | {'conflict', field}.
 */
export const WRITE_MEMORY = audited(
  'memory.write',
  `
if redis.call('EXISTS', KEYS[2]) == 0 then return {'not_found'} end
local agent, session = ARGV[A + 1], ARGV[A + 2]
local member = agent .. ':' .. session
local rec = M_REC .. member
local cur = redis.call('HMGET', rec, 'version', 'memory_type', 'ttl_ms', 'created_at', 'data_bytes', 'memory_id')
if not cur[1] then return {'not_found'} end
local expected = ARGV[A + 3]
if expected ~= '' and expected ~= cur[1] then return {'version_mismatch', tonumber(cur[1])} end

local replace = ARGV[A + 7] == '1'
local n_set = tonumber(ARGV[A + 8])
local first_set = A + 9
local del_at = first_set + n_set * 3
local n_del = tonumber(ARGV[del_at])
local cas_at = del_at + 1 + n_del
local n_cas = tonumber(ARGV[cas_at])
for i = 0, n_cas - 1 do
  local o = cas_at + 1 + i * 3
  local now_value = redis.call('HGET', M_DATA .. member, ARGV[o])
  if ARGV[o + 1] == '1' then
    if now_value ~= ARGV[o + 2] then return {'conflict', ARGV[o]} end
  elseif now_value then
    return {'conflict', ARGV[o]}
  end
end

local bytes = replace and 0 or tonumber(cur[5])
for i = 0, n_set - 1 do
  local o = first_set + i * 3
  local old = replace and 0 or tonumber(redis.call('HGET', M_SIZE .. member, ARGV[o]) or '0')
  bytes = bytes - old + tonumber(ARGV[o + 2])
end
for i = 1, n_del do
  bytes = bytes - tonumber(redis.call('HGET', M_SIZE .. member, ARGV[del_at + i]) or '0')
end
if bytes > tonumber(ARGV[A + 4]) then return {'too_large', bytes} end

if replace then redis.call('DEL', M_DATA .. member, M_SIZE .. member) end
write_fields(member, first_set, n_set)
for i = 1, n_del do
  redis.call('HDEL', M_DATA .. member, ARGV[del_at + i])
  redis.call('HDEL', M_SIZE .. member, ARGV[del_at + i])
end

local now = now_ms()
local expires_at = now + tonumber(cur[3])
local fields = { 'updated_at', now, 'expires_at', expires_at, 'data_bytes', bytes }
if ARGV[A + 5] ~= '' then
  table.insert(fields, 'updated_by'); table.insert(fields, ARGV[A + 5])
end
local mtype = ARGV[A + 6]
if mtype ~= '' and mtype ~= cur[2] then
  local created_at = tonumber(cur[4])
  redis.call('ZREM', M_AGENT .. agent .. M_TYPE .. cur[2], session)
  redis.call('ZREM', M_SESSION .. session .. M_TYPE .. cur[2], agent)
  redis.call('ZADD', M_AGENT .. agent .. M_TYPE .. mtype, created_at, session)
  redis.call('ZADD', M_SESSION .. session .. M_TYPE .. mtype, created_at, agent)
  redis.call('HSET', M_MEMBERS, member, mtype)
  table.insert(fields, 'memory_type'); table.insert(fields, mtype)
end
redis.call('HSET', rec, unpack(fields))
local version = redis.call('HINCRBY', rec, 'version', 1)
expire_all(member, expires_at)
event_change('memory', member, version)
audit_append({ memory_id = cur[6], version = version, updated_at = now, data_bytes = bytes })
return {'ok', version, now, expires_at, cur[6]}
`,
);

/**
 * KEYS[1]=record, KEYS[2]=the session's record. ARGV: agent, session.
 * Returns {} or {record pairs, data pairs, the session's expires_at}. Memory of a session that has
 * expired (but was not purged yet) is already gone for readers: a record never outlives its session.
 */
export const GET_MEMORY = script(
  'memory.get',
  `
if redis.call('EXISTS', KEYS[2]) == 0 then return {} end
local member = ARGV[A + 1] .. ':' .. ARGV[A + 2]
local record = redis.call('HGETALL', M_REC .. member)
if #record == 0 then return {} end
return { record, redis.call('HGETALL', M_DATA .. member), redis.call('HGET', KEYS[2], 'expires_at') or '' }
`,
  READ_ONLY,
);

/**
 * KEYS[1]=record. ARGV: agent, session, expected version ('' = any).
 * Returns {'ok', deleted_at, 1|0} | {'version_mismatch', v}.
 */
export const DELETE_MEMORY = audited(
  'memory.delete',
  `
local member = ARGV[A + 1] .. ':' .. ARGV[A + 2]
local expected = ARGV[A + 3]
if expected ~= '' then
  local version = redis.call('HGET', M_REC .. member, 'version')
  if version and version ~= expected then return {'version_mismatch', tonumber(version)} end
end
local memory_id = redis.call('HGET', M_REC .. member, 'memory_id')
local now, removed = now_ms(), m_remove(member)
if removed == 1 then
  event_append('memory.deleted', 'memory', member)
  audit_append({ memory_id = memory_id, deleted_at = now })
end
return {'ok', now, removed}
`,
  FREES_MEMORY,
);

/**
 * KEYS[1]=the agent index answering the filter. ARGV: agent (encoded), min, max created_at (ms or
 * -inf/+inf), offset, limit, cursor score ('' = none), cursor session id, purge limit, session
 * record prefix.
 * Newest first; paging by rank, O(log N + page) whatever the offset (same contract as sessions).
 * Returns {'retry'} | {'ok', total, has_more,
 * (session, score, record pairs, data pairs, session expires_at)*}.
 */
export const LIST_AGENT_MEMORY = evented(
  'memory.list',
  `${RANK_PAGE_LUA}
local now = now_ms()
if purge_or_retry(now, tonumber(ARGV[A + 8])) then return {'retry'} end

local agent = ARGV[A + 1]
-- Newest first.
local total, has_more, page = rank_page(KEYS[1], ARGV[A + 2], ARGV[A + 3], true,
  tonumber(ARGV[A + 4]), tonumber(ARGV[A + 5]), ARGV[A + 6], ARGV[A + 7])
local out = { 'ok', total, has_more }
for i = 1, #page, 2 do
  local member = agent .. ':' .. page[i]
  table.insert(out, page[i])
  table.insert(out, page[i + 1])
  table.insert(out, redis.call('HGETALL', M_REC .. member))
  table.insert(out, redis.call('HGETALL', M_DATA .. member))
  table.insert(out, redis.call('HGET', ARGV[A + 9] .. page[i], 'expires_at') or '')
end
return out
`,
  // Reads; the only writes are purges of expired records, which free memory.
  PURGES_EXPIRED,
);

/**
 * Sessions an agent-only caller's query may walk when it names none: past this, it must name them.
 */
export const VIEWER_SCOPE_MAX = 250;

/**
 * Cross-agent queries (/memory/sessions/{id} and /memory/agents). KEYS[1]=expiry index.
 * ARGV: viewer (encoded agent id of an agent-only caller, '' = may see everything), memory_type
 * ('' = any), limit, purge limit, offset, cursor score ('' = none), cursor agent (encoded), cursor
 * session, session record prefix, session required ('1' = the one session given must exist),
 * n_agents, agents (encoded)..., n_sessions, sessions...
 *
 * Cost is bounded by the request, never by the tenant's size: agents only -> ZCARD + the top
 * `offset + limit + 1` of each agent's index (after the cursor: ties at its score + limit + 1);
 * sessions only -> the same per session; both -> one ZSCORE per pair. For a viewer the candidates
 * are its own sessions (or the given ones where it has memory): its own record plus the `shared`
 * records of each, read from the session's per-type index.
 * Order: newest first, then agent, then session; a cursor is the last item's (score, agent,
 * session), so a page after it is exact whatever was written meanwhile.
 * Returns {'retry'} | {'session_not_found'} | {'too_broad', VIEWER_SCOPE_MAX} |
 * {'ok', total, has_more, (member, record pairs, data pairs, session expires_at)*}.
 */
export const QUERY_MEMORY = evented(
  'memory.query',
  `
local now = now_ms()
if purge_or_retry(now, tonumber(ARGV[A + 4])) then return {'retry'} end

local VIEWER_SCOPE_MAX = ${VIEWER_SCOPE_MAX}
local viewer, mtype, limit = ARGV[A + 1], ARGV[A + 2], tonumber(ARGV[A + 3])
local offset, c_score, c_agent, c_session = tonumber(ARGV[A + 5]), ARGV[A + 6], ARGV[A + 7], ARGV[A + 8]
local S_REC = ARGV[A + 9]
local agents, sessions, wanted = {}, {}, {}
local n_agents = tonumber(ARGV[A + 11])
for i = 1, n_agents do
  agents[i] = ARGV[A + 11 + i]
  wanted[agents[i]] = true
end
local s_at = A + 12 + n_agents
local n_sessions = tonumber(ARGV[s_at])
for i = 1, n_sessions do sessions[i] = ARGV[s_at + i] end
if ARGV[A + 10] == '1' and redis.call('EXISTS', S_REC .. sessions[1]) == 0 then
  return {'session_not_found'}
end

local function agent_idx(a)
  if mtype ~= '' then return M_AGENT .. a .. M_TYPE .. mtype end
  return M_AGENT .. a
end
local function session_idx(s)
  if mtype ~= '' then return M_SESSION .. s .. M_TYPE .. mtype end
  return M_SESSION .. s
end

-- The top of one index that a page can need: everything from the cursor on (ties included), or
-- the first offset + limit + 1 (one more than the page tells whether more follow).
local function top(idx)
  if c_score ~= '' then
    local ties = redis.call('ZCOUNT', idx, c_score, c_score)
    return redis.call('ZREVRANGEBYSCORE', idx, c_score, '-inf', 'WITHSCORES', 'LIMIT', 0, ties + limit + 1)
  end
  return redis.call('ZREVRANGE', idx, 0, offset + limit, 'WITHSCORES')
end

local found, total = {}, 0
local function add(agent, session, score)
  total = total + 1
  table.insert(found, { tonumber(score), agent, session })
end

if viewer == '' then
  if n_agents > 0 and n_sessions > 0 then
    for _, a in ipairs(agents) do
      local idx = agent_idx(a)
      for _, s in ipairs(sessions) do
        local score = redis.call('ZSCORE', idx, s)
        if score then add(a, s, score) end
      end
    end
  elseif n_agents > 0 then
    for _, a in ipairs(agents) do
      local idx = agent_idx(a)
      local page = top(idx)
      for i = 1, #page, 2 do table.insert(found, { tonumber(page[i + 1]), a, page[i] }) end
      total = total + redis.call('ZCARD', idx)
    end
  else
    for _, s in ipairs(sessions) do
      local idx = session_idx(s)
      local page = top(idx)
      for i = 1, #page, 2 do table.insert(found, { tonumber(page[i + 1]), page[i], s }) end
      total = total + redis.call('ZCARD', idx)
    end
  end
else
  local own = M_AGENT .. viewer
  local scope = sessions
  if n_sessions == 0 then
    -- The viewer's whole history is the scope: bounded, or one query could walk millions.
    if redis.call('ZCARD', own) > VIEWER_SCOPE_MAX then return {'too_broad', VIEWER_SCOPE_MAX} end
    scope = redis.call('ZRANGE', own, 0, -1)
  end
  for _, s in ipairs(scope) do
    if redis.call('ZSCORE', own, s) then
      if n_agents == 0 or wanted[viewer] then
        local score = redis.call('ZSCORE', agent_idx(viewer), s)
        if score then add(viewer, s, score) end
      end
      if mtype == '' or mtype == 'shared' then
        local shared = M_SESSION .. s .. M_TYPE .. 'shared'
        if n_agents > 0 then
          for _, a in ipairs(agents) do
            if a ~= viewer then
              local score = redis.call('ZSCORE', shared, a)
              if score then add(a, s, score) end
            end
          end
        else
          local members = redis.call('ZRANGE', shared, 0, -1, 'WITHSCORES')
          for i = 1, #members, 2 do
            if members[i] ~= viewer then add(members[i], s, members[i + 1]) end
          end
        end
      end
    end
  end
end

local function before(x, y)
  if x[1] ~= y[1] then return x[1] > y[1] end
  if x[2] ~= y[2] then return x[2] < y[2] end
  return x[3] < y[3]
end
table.sort(found, before)
local first = offset + 1
if c_score ~= '' then
  local cursor = { tonumber(c_score), c_agent, c_session }
  first = #found + 1
  for i = 1, #found do
    if before(cursor, found[i]) then first = i; break end
  end
end
local last = math.min(first + limit - 1, #found)
local out = { 'ok', total, (#found > last) and 1 or 0 }
for i = first, last do
  local member = found[i][2] .. ':' .. found[i][3]
  table.insert(out, member)
  table.insert(out, redis.call('HGETALL', M_REC .. member))
  table.insert(out, redis.call('HGETALL', M_DATA .. member))
  table.insert(out, redis.call('HGET', S_REC .. found[i][3], 'expires_at') or '')
end
return out
`,
  // Reads; the only writes are purges of expired records, which free memory.
  PURGES_EXPIRED,
);

/**
 * KEYS[1]=expiry index. ARGV: limit. Returns {expired records removed, 1 when it stopped with work
 * left else 0}.
 */
export const PURGE_EXPIRED_MEMORY = evented(
  'memory.purge',
  `
local removed, more = m_purge_expired(now_ms(), tonumber(ARGV[A + 1]))
return { removed, more and 1 or 0 }
`,
  PURGES_EXPIRED,
);

/**
 * Re-encryption step. KEYS[1]=any key of the tenant. ARGV: n, then (key, field, old, new)*.
 * Writes `new` only where the field still holds `old`, so a concurrent write is never undone.
 * Returns how many fields were rewritten.
 */
export const REPLACE_IF_UNCHANGED = auditedScript(
  'payload.replace-if-unchanged',
  `
local n, done = tonumber(ARGV[1]), 0
for i = 0, n - 1 do
  local o = 2 + i * 4
  if redis.call('HGET', ARGV[o], ARGV[o + 1]) == ARGV[o + 2] then
    redis.call('HSET', ARGV[o], ARGV[o + 1], ARGV[o + 3])
    done = done + 1
  end
end
if done > 0 then audit_append({ fields_reencrypted = done }) end
return done
`,
);

/** The prelude, for the backup import scripts (same helpers, same layout). */
export const MEMORY_PRELUDE = PRELUDE;
