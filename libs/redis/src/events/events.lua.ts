/** Stream entries one append may trim (XADD ... MINID ~ ... LIMIT): bounded work per write. */
export const EVENT_TRIM_LIMIT = 100;

/*
 * Prepended to every write script that changes sessions, memory or cache (inside the audit prelude,
 * so the audit prelude takes its keys first). The caller passes the tenant's event stream as KEYS[1]
 * (declared: Redis Cluster checks its slot before the script runs; it carries the tenant's hash tag
 * like every other key of the write) and three arguments: the actor ('system' for sweepers), how
 * long the stream keeps entries (ms) and the caller's word for the change where one script serves
 * two operations ('updated' or 'patched' for PUT and PATCH, 'deleted' or 'invalidated'). The
 * prelude takes them off KEYS and ARGV, so the script's own layout keeps its positions.
 *
 * event_append(type, resource_type, resource_id, version) appends one entry; a script calls it at
 * each point where it changed data, so the change and its event are one atomic step. Each append
 * also trims entries older than the retention (approximately, at most EVENT_TRIM_LIMIT at a time),
 * so the stream's length is bounded by its write rate without a separate sweeper. The entry id is
 * the event id and carries the time (occurred_at); the tenant is the stream's.
 */
export const EVENTS_PRELUDE = `
local EVENT_STREAM, EVENT_ACTOR, EVENT_KEEP_MS, EVENT_VERB = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3]
table.remove(KEYS, 1)
table.remove(ARGV, 1)
table.remove(ARGV, 1)
table.remove(ARGV, 1)

local function event_append(etype, resource_type, resource_id, version)
  local t = redis.call('TIME')
  local min_id = math.max(0, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - EVENT_KEEP_MS)
  return redis.call('XADD', EVENT_STREAM, 'MINID', '~', string.format('%d', min_id),
    'LIMIT', ${EVENT_TRIM_LIMIT}, '*', 't', etype, 'rt', resource_type, 'rid', resource_id,
    'v', version and tostring(version) or '', 'a', EVENT_ACTOR)
end

-- One entry per resource id, one look at the clock for all of them (bulk purges).
local function event_append_each(etype, resource_type, resource_ids)
  local t = redis.call('TIME')
  local min_id = string.format('%d', math.max(0, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - EVENT_KEEP_MS))
  for _, resource_id in ipairs(resource_ids) do
    redis.call('XADD', EVENT_STREAM, 'MINID', '~', min_id, 'LIMIT', ${EVENT_TRIM_LIMIT}, '*',
      't', etype, 'rt', resource_type, 'rid', resource_id, 'v', '', 'a', EVENT_ACTOR)
  end
end

-- Where one script serves two operations (PUT and PATCH, delete and invalidate), the caller names it.
local function event_change(resource_type, resource_id, version)
  return event_append(resource_type .. '.' .. EVENT_VERB, resource_type, resource_id, version)
end
`;
