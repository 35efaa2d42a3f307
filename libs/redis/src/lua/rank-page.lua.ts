/**
 * Lua shared by every index-backed list (sessions, agent memory): paging by rank, so a page costs
 * O(log N + page size) whatever the offset, with an exact total.
 *
 * A cursor is the last item's (score, id). Its rank is found even when that member is gone, by
 * counting what sorts before it, without writing. Returns the total in [min, max], has_more (1/0)
 * and the page WITH SCORES.
 */
export const RANK_PAGE_LUA = `
local function rank_page(idx, min, max, desc, offset, limit, cursor_score, cursor_id)
  local total = redis.call('ZCOUNT', idx, min, max)
  local first
  if desc then
    first = (max == '+inf') and 0 or redis.call('ZCOUNT', idx, '(' .. max, '+inf')
  else
    first = (min == '-inf') and 0 or redis.call('ZCOUNT', idx, '-inf', '(' .. min)
  end
  local last = first + total - 1
  local start
  if cursor_score ~= '' then
    -- Read-only on purpose (a read never writes: it must keep working when Redis refuses writes).
    local own = redis.call('ZSCORE', idx, cursor_id)
    if own and tonumber(own) == tonumber(cursor_score) then
      local rank
      if desc then rank = redis.call('ZREVRANK', idx, cursor_id) else rank = redis.call('ZRANK', idx, cursor_id) end
      start = rank + 1
    else
      -- The cursor's item is gone: count what sorts before (score, id). Equal scores sort by the
      -- member's bytes, as Redis orders them; ties are the items created in the same millisecond.
      local ties = redis.call('ZRANGE', idx, cursor_score, cursor_score, 'BYSCORE', 'LIMIT', 0, 10000)
      local before = 0
      for _, member in ipairs(ties) do
        if (desc and member > cursor_id) or ((not desc) and member < cursor_id) then before = before + 1 end
      end
      if desc then
        start = redis.call('ZCOUNT', idx, '(' .. cursor_score, '+inf') + before
      else
        start = redis.call('ZCOUNT', idx, '-inf', '(' .. cursor_score) + before
      end
    end
    if start < first then start = first end
  else
    start = first + offset
  end
  local stop = math.min(start + limit - 1, last)
  local page = {}
  if start <= stop then
    if desc then
      page = redis.call('ZREVRANGE', idx, start, stop, 'WITHSCORES')
    else
      page = redis.call('ZRANGE', idx, start, stop, 'WITHSCORES')
    end
  end
  return total, (start + limit - 1 < last) and 1 or 0, page
end
`;
