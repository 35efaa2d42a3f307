/**
 * Lua shared by every index-backed list (sessions, agent memory): paging by rank, so a page costs
 * O(log N + page size) whatever the offset, with an exact total.
 *
 * A cursor is the last item's (score, id). Its rank is found even when that member is gone: the
 * script inserts it for a moment, reads its rank and takes it out again, which nobody can observe
 * inside a script. Returns the total in [min, max], has_more (1/0) and the page WITH SCORES.
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
    local added = redis.call('ZADD', idx, 'NX', cursor_score, cursor_id)
    local rank
    if desc then rank = redis.call('ZREVRANK', idx, cursor_id) else rank = redis.call('ZRANK', idx, cursor_id) end
    if added == 1 then
      redis.call('ZREM', idx, cursor_id)
      start = rank
    else
      start = rank + 1
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
