-- wrk script of bench/webhooks.sh for the latency run: POST a user of the
-- room at BENCH_PATH at a steady BENCH_RATE requests per second, run with
-- -t1 -c1.  wrk has no rate option, so delay() spaces the requests out:
-- request k is due at start + k / rate, and delay() waits (in wrk's whole
-- milliseconds, rounded up) until then, or not at all when late, so the
-- average rate holds even though each wait is rounded.  The clock is
-- CLOCK_MONOTONIC through LuaJIT's ffi (wrk's Lua is LuaJIT).

dofile(os.getenv("BENCH_DIR") .. "/report.lua")

local ffi = require("ffi")

ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } collab_bench_ts;
int clock_gettime(int clock, collab_bench_ts *tp);
]]

local ts = ffi.new("collab_bench_ts")

local function now_ms()
   ffi.C.clock_gettime(1, ts)   -- CLOCK_MONOTONIC
   return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local path = os.getenv("BENCH_PATH")
local run = os.getenv("BENCH_RUN") or "1"
local interval = 1000 / tonumber(os.getenv("BENCH_RATE") or "1000")
local due
local n = 0

unexpected = 0
codes = {}

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")

function delay()
   local now = now_ms()

   if due == nil then
      due = now
   end

   local wait = due - now
   due = due + interval

   if wait <= 0 then
      return 0
   end

   return math.ceil(wait)
end

function request()
   n = n + 1
   return wrk.format(nil, path, nil, string.format(
      '{"userId":"r%s-t%d-%d","name":"Bench User"}', run, tid, n))
end

function response(status, headers, body)
   if status ~= 201 then
      unexpected = unexpected + 1
      codes[status] = (codes[status] or 0) + 1
   end
end
