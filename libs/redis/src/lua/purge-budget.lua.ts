/**
 * Redis time one purge call may spend before it hands back control (checked between chunks of
 * PURGE_CHUNK items, so a call ends within one chunk's time after it): issue #11 asks for no
 * script over 10 ms. Shared by the session, memory and cache purges.
 */
export const PURGE_BUDGET_US = 4000;
/** Items removed between two looks at the clock. */
export const PURGE_CHUNK = 20;

/**
 * The budget for Lua: `micros_since(TIME reply)`. TIME inside a script is fine with Redis 7's
 * effects replication.
 */
export const PURGE_BUDGET_LUA = `
local PURGE_BUDGET_US, PURGE_CHUNK = ${PURGE_BUDGET_US}, ${PURGE_CHUNK}

local function micros_since(t0)
  local t = redis.call('TIME')
  return (tonumber(t[1]) - tonumber(t0[1])) * 1000000 + tonumber(t[2]) - tonumber(t0[2])
end
`;
