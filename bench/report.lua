-- Shared by the wrk scripts of bench/run.sh (loaded with dofile).
--
-- setup() numbers the threads (global "tid" in each thread) and keeps them,
-- so that done() can collect what response() hooks counted ("unexpected",
-- and "codes": status -> count).  done() prints one line for run.sh:
--
--   BENCH requests=.. seconds=.. rps=.. p50_us=.. p99_us=.. unexpected=..
--         errors=connect/read/write/timeout/status codes=409:3,503:1

local threads = {}

function setup(thread)
   threads[#threads + 1] = thread
   thread:set("tid", #threads)
end

function done(summary, latency, requests)
   local unexpected, codes = 0, {}

   for _, t in ipairs(threads) do
      unexpected = unexpected + (t:get("unexpected") or 0)
      for status, n in pairs(t:get("codes") or {}) do
         codes[status] = (codes[status] or 0) + n
      end
   end

   local list = {}
   for status, n in pairs(codes) do
      list[#list + 1] = status .. ":" .. n
   end
   table.sort(list)

   local e = summary.errors
   local seconds = summary.duration / 1e6

   io.write(string.format(
      "BENCH requests=%d seconds=%.3f rps=%.0f p50_us=%d p99_us=%d"
      .. " unexpected=%d errors=%d/%d/%d/%d/%d codes=%s\n",
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50), latency:percentile(99),
      unexpected, e.connect, e.read, e.write, e.timeout, e.status,
      #list > 0 and table.concat(list, ",") or "-"))
end
