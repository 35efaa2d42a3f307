import { scriptBuilders } from '../audit/audit.lua';
import { CACHE_PRELUDE } from '../cache/cache.scripts';
import { FREES_MEMORY } from '../lua-script';
import { SESSION_PRELUDE } from '../sessions/session.scripts';

/*
 * Erasure of a data subject, one bounded step per call (the repository loops in Node, so Redis
 * serves other clients between steps). Each step deletes whole records with every index entry
 * naming them (the same helpers as the session delete and the cache invalidation), adds what it
 * deleted to the erasure's progress hash and appends its audit record, all in one script: an
 * erasure interrupted anywhere resumes from what is left and still reports exact totals.
 *
 * The progress hash carries a TTL (renewed by every step), so an erasure abandoned for good does
 * not leave it behind for ever.
 */

const sessionScripts = scriptBuilders(SESSION_PRELUDE);

/**
 * KEYS[1]=the subject's creator index, KEYS[2]=progress hash. ARGV: session layout (15), limit,
 * record budget, progress ttl (ms). Deletes up to `limit` sessions created by the subject, each
 * with its agent memory, and stops early once it has deleted `budget` records (a session and each
 * of its memory records count one): the work, not the number of sessions, bounds a step.
 * Returns {more (1 = call again), sessions deleted, memory records deleted}.
 */
export const ERASE_SUBJECT_SESSIONS = sessionScripts.audited(
  'subject.erase-sessions',
  `
local index, progress = KEYS[1], KEYS[2]
local limit, budget, ttl = tonumber(ARGV[A + 1]), tonumber(ARGV[A + 2]), tonumber(ARGV[A + 3])
local ids = redis.call('ZRANGE', index, 0, limit - 1)
local sessions, memory, deleted, done = 0, 0, {}, 0
for _, id in ipairs(ids) do
  local existed = redis.call('DEL', RECORD .. id)
  remove_from_indexes(id)
  memory = memory + m_cascade(id)
  -- An index entry without its membership entry would otherwise stay and stall the loop.
  redis.call('ZREM', index, id)
  done = done + 1
  if existed == 1 then
    sessions = sessions + 1
    table.insert(deleted, id)
    event_append('session.deleted', 'session', id)
  end
  if sessions + memory >= budget then break end
end
if sessions + memory > 0 then
  redis.call('HINCRBY', progress, 'sessions', sessions)
  redis.call('HINCRBY', progress, 'memory', memory)
  redis.call('PEXPIRE', progress, ttl)
  audit_append({ resource_ids = deleted, memory_records_deleted = memory, deleted_at = now_ms() })
end
local more = 0
if done < #ids or #ids == limit then more = 1 end
return { more, sessions, memory }
`,
  FREES_MEMORY,
);

const cacheScripts = scriptBuilders(CACHE_PRELUDE);

/**
 * KEYS[1]=the tag index `user:<id>`, KEYS[2]=progress hash. ARGV: cache layout (6), tag, limit,
 * progress ttl (ms). Deletes up to `limit` live entries carrying the tag (the same rule as a tag
 * invalidation). Returns {members looked at, deleted cache_keys...}.
 */
export const ERASE_SUBJECT_CACHE = cacheScripts.audited(
  'subject.erase-cache',
  `
local tk, progress = KEYS[1], KEYS[2]
local tag, limit, ttl = ARGV[A + 1], tonumber(ARGV[A + 2]), tonumber(ARGV[A + 3])
local now = now_ms()
local out = drain_tag_step(tk, tag, limit, now, 'cache.deleted')
if #out > 1 then
  redis.call('HINCRBY', progress, 'cache', #out - 1)
  redis.call('PEXPIRE', progress, ttl)
  audit_append({ resource_ids = { unpack(out, 2) }, tag = tag, deleted_at = now })
end
return out
`,
  FREES_MEMORY,
);

/**
 * KEYS[1]=progress hash. ARGV: subject. Ends an erasure: takes the totals of every step (of this
 * request and of interrupted earlier ones), deletes the progress hash and appends the receipt as
 * the audit record, in one step. Returns {sessions, memory, cache, completed_at}.
 */
export const FINISH_SUBJECT_ERASURE = scriptBuilders(`
local A = 0
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`).audited(
  'subject.erase-finish',
  `
local progress = KEYS[1]
local totals = redis.call('HMGET', progress, 'sessions', 'memory', 'cache')
redis.call('DEL', progress)
local receipt = {
  subject = ARGV[A + 1],
  sessions_deleted = tonumber(totals[1] or '0'),
  memory_records_deleted = tonumber(totals[2] or '0'),
  cache_entries_deleted = tonumber(totals[3] or '0'),
  completed_at = now_ms(),
}
audit_append({ receipt = receipt })
return { receipt.sessions_deleted, receipt.memory_records_deleted, receipt.cache_entries_deleted,
  receipt.completed_at }
`,
  FREES_MEMORY,
);
