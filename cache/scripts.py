"""Lua scripts: each cache operation is one Redis round trip, atomic.

Tag records are "<lsn> <unix ms>": the primary's WAL position and the time
of the newest invalidation of that tag. An entry is valid while its
snapshot LSN is at or past the record of every tag it shows, and of the tag
`all` that every page implicitly shows (raised when Redis comes back from
an outage, during which invalidations may have been lost).

Each tag also keeps the invalidations of its last seconds (a sorted set by
LSN, `pc:tag-history:<tag>`, expiring HISTORY_SECONDS after its newest
member, at most HISTORY_LENGTH members; `pc:tag-floor:<tag>` holds the
newest LSN trimmed off it). From it a lookup tells when an invalid entry
*first* missed an invalidation, which is what bounds how long its previous
copy may still be served (STALE): B after that first one, not the newest.
"""
from .redis_keys import LOG_KEY, LOG_LENGTH

HISTORY_LENGTH = 16
HISTORY_SECONDS = 60  # beyond any staleness bound B (MAX_REPLICA_LAG_SECONDS + 1 s)

# Shared by lookup and store: newest invalidation (lsn, ms) over a tag list,
# and which tags have one past `snapshot`.
NEWEST_INVALIDATION = """
local function newest_invalidation(tags, snapshot)
  local newest, newest_at, missed = 0, 0, {}
  if tags == nil or tags == '' then return newest, newest_at, missed end
  local names, keys = {}, {}
  for tag in string.gmatch(tags, '%S+') do
    names[#names + 1] = tag
    keys[#keys + 1] = 'pc:tag:' .. tag
  end
  local values = redis.call('MGET', unpack(keys))
  for i, value in ipairs(values) do
    if value then
      local lsn, at = string.match(value, '(%d+) (%d+)')
      lsn = tonumber(lsn)
      if lsn > newest then newest, newest_at = lsn, tonumber(at) end
      if snapshot and lsn > snapshot then missed[#missed + 1] = names[i] end
    end
  end
  return newest, newest_at, missed
end
"""

# When an entry at `snapshot` first missed one of `tags`' invalidations
# (unix ms); 0 when that is unknown, i.e. older than the history keeps.
FIRST_MISSED = """
local function first_missed(tags, snapshot)
  local first = nil
  for _, tag in ipairs(tags) do
    local floor = redis.call('GET', 'pc:tag-floor:' .. tag)
    if floor and tonumber(floor) > snapshot then return 0 end
    local found = redis.call('ZRANGEBYSCORE', 'pc:tag-history:' .. tag, '(' .. snapshot, '+inf', 'LIMIT', 0, 1)
    if #found == 0 then return 0 end
    local at = tonumber(string.match(found[1], '%d+ (%d+)'))
    if first == nil or at < first then first = at end
  end
  return first or 0
end
"""

# ARGV: key prefix, key rest, min lsn (pin), now ms, lease token, lease ms,
#   gating (1/0), caught-up lsn (the furthest replica in rotation has
#   replayed this much), stale ms (the bound B)
# With gating off (only to show the hazard) validity is judged like a naive
# cache would, by time: an entry stored after the invalidation counts as new.
# Returns {state, generation, meta, body, snapshot, tags, fresh_until,
#          newest_at, leased, newest, stale_ok}
#   state: 1 fresh, 2 invalidated, 3 behind the pin, 4 past its TTL, 0 absent
# The fill lease (SET NX PX) is taken for an absent entry or one past its
# TTL; for an invalidated one only once a replica in rotation has replayed
# every invalidation it missed (the refill then runs there, not on the
# primary) or once its previous copy may no longer be served: until then,
# readers get that copy (stale_ok), for at most B after its first missed
# invalidation, and readers pinned past it never.
LOOKUP = NEWEST_INVALIDATION + FIRST_MISSED + """
local generation = redis.call('GET', 'pc:gen') or '0'
local key = ARGV[1] .. generation .. ':' .. ARGV[2]
local e = redis.call('HMGET', key, 's', 't', 'h', 'b', 'x', 'a')
local state, stale_ok, now = 0, 0, tonumber(ARGV[4])
local snapshot = tonumber(e[1] or '0')
local newest, newest_at, missed = newest_invalidation((e[2] or '') .. ' all', e[1] and snapshot)
if e[1] then
  local invalidated = snapshot < newest
  if ARGV[7] ~= '1' then invalidated = tonumber(e[6]) < newest_at end
  if invalidated then state = 2
  elseif snapshot < tonumber(ARGV[3]) then state = 3
  elseif tonumber(e[5]) < now then state = 4
  else state = 1 end
end
local lease = state == 0 or state == 4
if state == 2 and ARGV[7] ~= '1' then
  stale_ok, lease = 1, true  -- the naive cache: refill at once, anywhere
elseif state == 2 then
  if snapshot >= tonumber(ARGV[3]) and now - first_missed(missed, snapshot) < tonumber(ARGV[9]) then
    stale_ok = 1
  end
  lease = stale_ok == 0 or tonumber(ARGV[8]) >= newest
end
local leased = 0
if lease and redis.call('SET', 'pc:lease:' .. key, ARGV[5], 'NX', 'PX', ARGV[6]) then leased = 1 end
return {state, generation, e[3], e[4], e[1], e[2], e[5], newest_at, leased, newest, stale_ok}
"""

# KEYS: none. ARGV: full key, lease token, snapshot, tags, meta, body,
#   fresh_until ms, ttl ms, gating (1/0), now ms
# Returns 1 stored, 0 refused: older than an invalidation of its tags, or
# older than the entry already there (a slow render never overwrites a newer one).
STORE = NEWEST_INVALIDATION + """
local key = ARGV[1]
local snapshot = tonumber(ARGV[3])
local outcome = 1
if redis.call('EXISTS', 'pc:resetting') == 1 then outcome = 0 end  -- starting afresh (cache/fresh_start.py)
if outcome == 1 and ARGV[9] == '1' then
  local newest = newest_invalidation(ARGV[4] .. ' all')
  if snapshot < newest then outcome = 0 end
end
local existing = redis.call('HGET', key, 's')
if outcome == 1 and existing and tonumber(existing) > snapshot then outcome = 0 end
if outcome == 1 then
  redis.call('HSET', key, 's', ARGV[3], 't', ARGV[4], 'h', ARGV[5], 'b', ARGV[6], 'x', ARGV[7], 'a', ARGV[10])
  redis.call('PEXPIRE', key, ARGV[8])
end
if redis.call('GET', 'pc:lease:' .. key) == ARGV[2] then redis.call('DEL', 'pc:lease:' .. key) end
return outcome
"""

# KEYS: tag names. ARGV: lsn, now ms, the tags (space-separated).
# Raise each record to (lsn, now), never back: concurrent invalidators may
# arrive out of order; add the invalidation to the tag's recent history.
# Then append the tags to the invalidation log, which every process's memory
# tier follows (cache/memory_sync.py).
INVALIDATE = f"""
local lsn, record = tonumber(ARGV[1]), ARGV[1] .. ' ' .. ARGV[2]
for _, tag in ipairs(KEYS) do
  local key, history = 'pc:tag:' .. tag, 'pc:tag-history:' .. tag
  local current = redis.call('GET', key)
  local recorded = 0
  if current then recorded = tonumber(string.match(current, '(%d+)')) end
  if lsn >= recorded then redis.call('SET', key, record) end
  redis.call('ZADD', history, lsn, record)
  local excess = redis.call('ZCARD', history) - {HISTORY_LENGTH}
  if excess > 0 then
    local dropped = redis.call('ZRANGE', history, excess - 1, excess - 1, 'WITHSCORES')
    redis.call('ZREMRANGEBYRANK', history, 0, excess - 1)
    redis.call('SET', 'pc:tag-floor:' .. tag, dropped[2], 'EX', {HISTORY_SECONDS})
  end
  redis.call('EXPIRE', history, {HISTORY_SECONDS})
  redis.call('EXPIRE', 'pc:tag-floor:' .. tag, {HISTORY_SECONDS})  -- never outlived by the history
end
redis.call('XADD', '{LOG_KEY}', 'MAXLEN', '~', '{LOG_LENGTH}', '*', 't', ARGV[3])
return 1
"""
