-- Replays a list of request targets for wrk, one per request:
-- `wrk -s replay.lua URL -- <targets file> <threads>`.
-- Thread i of n requests lines i, i+n, i+2n ... and starts over at the end.
-- Used for the Zipf mix (a sequence drawn in Python by bench/zipf.py, so the
-- bench knows which pages to warm) and for misses (never-cached posts).
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

threads_created = 0
local targets = {}
local next_index, step = 1, 1

function setup(thread)
  threads_created = threads_created + 1
  thread:set("thread_id", threads_created)
end

function init(args)
  for line in io.lines(args[1]) do targets[#targets + 1] = line end
  step = tonumber(args[2] or "1")
  next_index = thread_id or 1
end

function request()
  local target = targets[next_index]
  next_index = next_index + step
  if next_index > #targets then next_index = thread_id or 1 end
  return wrk.format("GET", target)
end
