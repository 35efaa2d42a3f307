import type { RedisClient } from '../connection/redis-client.factory';
import { EVENTS_PRELUDE } from '../events/events.lua';
import { LuaScript, type LuaScriptOptions } from '../lua-script';

/** `prev` of a tenant's first record. */
export const AUDIT_GENESIS = '0'.repeat(40);

/*
 * Prepended to every write script that can be audited. The caller passes the tenant's audit stream
 * and chain head as KEYS[1], KEYS[2] (declared, so Redis Cluster checks their slot before the script
 * runs; they carry the tenant's hash tag like every other key of the write) and the serialized
 * record as ARGV[1] ('' = do not audit: sweepers, background work). The prelude takes those three
 * off KEYS and ARGV, so the script's own layout keeps its positions.
 *
 * audit_append(out) appends one entry to the stream, chained to the previous one:
 *   hash = sha1hex(prev \n seq \n ts \n rec \n out)
 * where rec is the record built in Node (who, what, from where) and out is what only the script knows
 * (ids written, new version), JSON. A script calls it once, on the path where it changed data, so
 * the change and its record are one atomic step: there is no moment where one exists without the other.
 */
export const AUDIT_PRELUDE = `
local AUDIT_STREAM, AUDIT_HEAD, AUDIT_REC = KEYS[1], KEYS[2], ARGV[1]
table.remove(KEYS, 1)
table.remove(KEYS, 1)
table.remove(ARGV, 1)

local function audit_append(out)
  if AUDIT_REC == '' then return nil end
  local head = redis.call('HMGET', AUDIT_HEAD, 'seq', 'hash')
  local seq = string.format('%d', tonumber(head[1] or '0') + 1)
  local prev = head[2] or '${AUDIT_GENESIS}'
  local t = redis.call('TIME')
  local ts = string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  local out_json = out or ''
  if type(out) == 'table' then out_json = cjson.encode(out) end
  local hash = redis.sha1hex(prev .. '\\n' .. seq .. '\\n' .. ts .. '\\n' .. AUDIT_REC .. '\\n' .. out_json)
  local id = redis.call('XADD', AUDIT_STREAM, '*',
    'seq', seq, 'ts', ts, 'rec', AUDIT_REC, 'out', out_json, 'prev', prev, 'hash', hash)
  redis.call('HSET', AUDIT_HEAD, 'seq', seq, 'hash', hash, 'id', id)
  return id
end
`;

/**
 * A write script whose change can be recorded in the same atomic step (see AUDIT_PRELUDE). Called
 * without a record (`ARGV[1]` = '': sweepers, work outside a request) it runs the script without
 * the prelude, so unaudited writes cost exactly what they did before.
 */
export class AuditedLuaScript extends LuaScript {
  private readonly plain: LuaScript;

  constructor(name: string, source: string, options?: LuaScriptOptions) {
    super(name, AUDIT_PRELUDE + source, options);
    this.plain = new LuaScript(
      `${name} (unaudited)`,
      `local audit_append = function() end\n${source}`,
      options,
    );
  }

  override run(client: RedisClient, keys: string[], args: (string | number)[]): Promise<unknown> {
    if (args[0] === '') return this.plain.run(client, keys.slice(2), args.slice(1));
    return super.run(client, keys, args);
  }
}

export function auditedScript(name: string, source: string, options?: LuaScriptOptions): LuaScript {
  return new AuditedLuaScript(name, source, options);
}

/**
 * An audit record on its own: refused and failed attempts, reads, and anything no write script
 * covers. KEYS: stream, head. ARGV: rec, out. Returns the entry id.
 */
export const APPEND_AUDIT_RECORD = auditedScript(
  'audit.append',
  `
return audit_append(ARGV[1])
`,
);

/**
 * KEYS[1]=stream. ARGV: min id, limit. Removes entries older than the retention (by id = time),
 * at most about `limit` per call (approximate trimming: whole stream nodes, so a few entries past
 * the cut-off may stay until their node is entirely expired). Returns how many were removed.
 */
export const TRIM_AUDIT_STREAM = new LuaScript(
  'audit.trim',
  `
return redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[1], 'LIMIT', ARGV[2])
`,
  // Trimming frees memory, so it runs when Redis is full.
  { allowOom: true },
);

/**
 * How a script file builds its scripts over its own prelude: `script` for plain ones, `audited` for
 * writes whose change is recorded in the same step (audit record and change events, see
 * EVENTS_PRELUDE), `evented` for background writes that append events but no audit record (expiry
 * purges: KEYS[1] the event stream, ARGV[1..3] the event arguments).
 */
export function scriptBuilders(prelude: string) {
  return {
    script: (name: string, body: string, options?: LuaScriptOptions) =>
      new LuaScript(name, prelude + body, options),
    audited: (name: string, body: string, options?: LuaScriptOptions) =>
      auditedScript(name, EVENTS_PRELUDE + prelude + body, options),
    evented: (name: string, body: string, options?: LuaScriptOptions) =>
      new LuaScript(name, EVENTS_PRELUDE + prelude + body, options),
  };
}
