-- wrk script of bench/run.sh: POST BENCH_PATH (a room's users) with a
-- userId of its own for every request, "r<run>-t<thread>-<counter>", so
-- that each one creates a user.  Every answer that is not 201 is counted,
-- by status, and reported by done().

dofile(os.getenv("BENCH_DIR") .. "/report.lua")

local path = os.getenv("BENCH_PATH")
local run = os.getenv("BENCH_RUN") or "1"
local n = 0

unexpected = 0
codes = {}

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")

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
