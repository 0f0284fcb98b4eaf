"""Lua scripts: each cache operation is one Redis round trip, atomic.

Tag records are "<lsn> <unix ms>": the primary's WAL position and the time
of the newest invalidation of that tag. An entry is valid while its
snapshot LSN is at or past the record of every tag it shows, and of the tag
`all` that every page implicitly shows (raised when Redis comes back from
an outage, during which invalidations may have been lost).
"""

# Shared by lookup and store: newest invalidation (lsn, ms) over a tag list.
NEWEST_INVALIDATION = """
local function newest_invalidation(tags)
  local newest, newest_at = 0, 0
  if tags == nil or tags == '' then return newest, newest_at end
  local keys = {}
  for tag in string.gmatch(tags, '%S+') do keys[#keys + 1] = 'pc:tag:' .. tag end
  local values = redis.call('MGET', unpack(keys))
  for _, value in ipairs(values) do
    if value then
      local lsn, at = string.match(value, '(%d+) (%d+)')
      lsn = tonumber(lsn)
      if lsn > newest then newest, newest_at = lsn, tonumber(at) end
    end
  end
  return newest, newest_at
end
"""

# ARGV: key prefix, key rest, min lsn (pin), now ms, lease token, lease ms, gating
# With gating off (only to show the hazard) validity is judged like a naive
# cache would, by time: an entry stored after the invalidation counts as new.
# Returns {state, generation, meta, body, snapshot, tags, fresh_until, newest_at, leased}
#   state: 1 fresh, 2 invalidated, 3 behind the pin, 4 past its TTL, 0 absent
# On any state but 1 it also tries to take the fill lease (SET NX PX).
LOOKUP = NEWEST_INVALIDATION + """
local generation = redis.call('GET', 'pc:gen') or '0'
local key = ARGV[1] .. generation .. ':' .. ARGV[2]
local e = redis.call('HMGET', key, 's', 't', 'h', 'b', 'x', 'a')
local state = 0
local newest, newest_at = newest_invalidation((e[2] or '') .. ' all')
if e[1] then
  local snapshot = tonumber(e[1])
  local invalidated = snapshot < newest
  if ARGV[7] ~= '1' then invalidated = tonumber(e[6]) < newest_at end
  if invalidated then state = 2
  elseif snapshot < tonumber(ARGV[3]) then state = 3
  elseif tonumber(e[5]) < tonumber(ARGV[4]) then state = 4
  else state = 1 end
end
local leased = 0
if state ~= 1 and state ~= 3 then
  if redis.call('SET', 'pc:lease:' .. key, ARGV[5], 'NX', 'PX', ARGV[6]) then leased = 1 end
end
return {state, generation, e[3], e[4], e[1], e[2], e[5], newest_at, leased, newest}
"""

# KEYS: none. ARGV: full key, lease token, snapshot, tags, meta, body,
#   fresh_until ms, ttl ms, gating (1/0), now ms
# Returns 1 stored, 0 refused: older than an invalidation of its tags, or
# older than the entry already there (a slow render never overwrites a newer one).
STORE = NEWEST_INVALIDATION + """
local key = ARGV[1]
local snapshot = tonumber(ARGV[3])
local outcome = 1
if ARGV[9] == '1' then
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

# KEYS: tag record keys. ARGV: lsn, now ms, the tags (space-separated).
# Raise each record to (lsn, now), never back: concurrent invalidators may
# arrive out of order. Then append the tags to the invalidation log, which
# every process's memory tier follows (cache/memory_sync.py).
INVALIDATE = """
for _, key in ipairs(KEYS) do
  local current = redis.call('GET', key)
  local lsn = 0
  if current then lsn = tonumber(string.match(current, '(%d+)')) end
  if tonumber(ARGV[1]) >= lsn then redis.call('SET', key, ARGV[1] .. ' ' .. ARGV[2]) end
end
redis.call('XADD', 'pc:invlog', 'MAXLEN', '~', '10000', '*', 't', ARGV[3])
return 1
"""
