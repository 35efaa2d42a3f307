import { CACHE_PRELUDE } from '../cache/cache.scripts';
import { LuaScript } from '../lua-script';
import { MEMORY_PRELUDE } from '../memory/memory.scripts';
import { SESSION_PRELUDE } from '../sessions/session.scripts';

/*
 * Restore of one exported record: the record and every index naming it are written in one script,
 * so an import that stops (bad line, lost connection, crash) never leaves a half-written record.
 * Each script takes its entity's key layout first (same preludes as the repositories' writes), so
 * the indexes are exactly the ones the repositories maintain. Time comes from Redis (TIME).
 *
 * Conflict ('skip' | 'overwrite' | 'fail'): with anything but 'overwrite' an existing live record
 * is left alone and the script answers {'exists'}; the caller reports it as skipped or failed.
 * A record whose expires_at has already passed is not written ({'expired'}).
 */

/**
 * KEYS[1]=session record. ARGV: session layout (15), id, creator (encoded), conflict, expires_at,
 * then the record's (field, value) pairs as stored. Returns {'ok'} | {'exists'} | {'expired'}.
 */
export const IMPORT_SESSION = new LuaScript(
  'backup.import-session',
  SESSION_PRELUDE +
    `
local key, id, creator, conflict = KEYS[1], ARGV[A + 1], ARGV[A + 2], ARGV[A + 3]
local expires_at = tonumber(ARGV[A + 4])
if expires_at <= now_ms() then return {'expired'} end
if redis.call('EXISTS', key) == 1 and conflict ~= 'overwrite' then return {'exists'} end
-- Also clears index entries of a replaced record or of an expired one not yet swept.
remove_from_indexes(id)
redis.call('DEL', key)
local fields = {}
for i = A + 5, #ARGV do table.insert(fields, ARGV[i]) end
redis.call('HSET', key, unpack(fields))
redis.call('PEXPIREAT', key, expires_at)
local cur = redis.call('HMGET', key, 'status', 'created_at')
add_to_indexes(id, creator, cur[1], tonumber(cur[2]))
redis.call('ZADD', EXPIRY, expires_at, id)
return {'ok'}
`,
);

/**
 * KEYS[1]=memory record. ARGV: memory layout (8), agent (encoded), session, session record key,
 * conflict, expires_at, memory_type, created_at, n record pairs, the pairs, n data triples,
 * then (field, stored value, bytes)*. Returns {'ok'} | {'exists'} | {'expired'} |
 * {'session_not_found'} (a memory record never outlives its session).
 */
export const IMPORT_MEMORY = new LuaScript(
  'backup.import-memory',
  MEMORY_PRELUDE +
    `
local agent, session, conflict = ARGV[A + 1], ARGV[A + 2], ARGV[A + 4]
local member = agent .. ':' .. session
local expires_at, mtype, created_at = tonumber(ARGV[A + 5]), ARGV[A + 6], tonumber(ARGV[A + 7])
if expires_at <= now_ms() then return {'expired'} end
if redis.call('EXISTS', ARGV[A + 3]) == 0 then return {'session_not_found'} end
local rec = M_REC .. member
if redis.call('EXISTS', rec) == 1 and conflict ~= 'overwrite' then return {'exists'} end
m_remove(member)
local n_rec = tonumber(ARGV[A + 8])
local fields = {}
for i = 1, n_rec * 2 do fields[i] = ARGV[A + 8 + i] end
redis.call('HSET', rec, unpack(fields))
local data_at = A + 9 + n_rec * 2
write_fields(member, data_at + 1, tonumber(ARGV[data_at]))
redis.call('ZADD', M_AGENT .. agent, created_at, session)
redis.call('ZADD', M_AGENT .. agent .. M_TYPE .. mtype, created_at, session)
redis.call('ZADD', M_SESSION .. session, created_at, agent)
redis.call('ZADD', M_SESSION .. session .. M_TYPE .. mtype, created_at, agent)
redis.call('HSET', M_MEMBERS, member, mtype)
expire_all(member, expires_at)
return {'ok'}
`,
);

/**
 * KEYS[1]=cache entry. ARGV: cache layout (6), cache_key, conflict, expires_at, data (stored),
 * cached_at, updated_at, tags (comma-joined). Returns {'ok'} | {'exists'} | {'expired'}.
 */
export const IMPORT_CACHE = new LuaScript(
  'backup.import-cache',
  CACHE_PRELUDE +
    `
local e, key, conflict = KEYS[1], ARGV[A + 1], ARGV[A + 2]
local expires_at = tonumber(ARGV[A + 3])
local now = now_ms()
if expires_at <= now then return {'expired'} end
local cur = redis.call('HGET', e, 'expires_at')
if cur and tonumber(cur) > now and conflict ~= 'overwrite' then return {'exists'} end
unlink(key, now)
local tags = ARGV[A + 7]
redis.call('HSET', e, 'data', ARGV[A + 4], 'cached_at', ARGV[A + 5], 'updated_at', ARGV[A + 6],
  'expires_at', expires_at, 'tags', tags)
redis.call('PEXPIREAT', e, expires_at)
redis.call('ZADD', INDEX, 0, key)
redis.call('ZADD', EXPIRY, expires_at, key)
for _, tag in ipairs(split(tags)) do
  redis.call('ZADD', TAG .. tag, expires_at, key)
  redis.call('SADD', TAGS, tag)
end
return {'ok'}
`,
);
