-- wrk script of bench/webhooks.sh: creates exactly BENCH_COUNT users of
-- the room at BENCH_PATH (so as many user.created events, and one delivery
-- per event for the one webhook), shared out among wrk's BENCH_THREADS
-- threads.  Each userId is of its own, "r<run>-t<thread>-<counter>", as in
-- bench/users.lua; BENCH_RUN tells the batches of one run apart.
--
-- wrk runs for a duration, not a count: a thread whose POSTs have all
-- been answered leaves the file BENCH_DONE.<thread> and stops, and
-- webhooks.sh interrupts wrk once every thread has.  Meanwhile the
-- thread's other connections ask for GET /idle, a 204 from nginx alone,
-- so that no POST goes beyond the count (and the first request of each
-- thread is one too, see request()).  Answers to POSTs other than
-- 201 are counted (unexpected, codes) and reported by report.lua's done().

dofile(os.getenv("BENCH_DIR") .. "/report.lua")

local path = os.getenv("BENCH_PATH")
local run = os.getenv("BENCH_RUN") or "1"
local count = tonumber(os.getenv("BENCH_COUNT"))
local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
local marker = os.getenv("BENCH_DONE")

local quota        -- POSTs of this thread
local sent = 0     -- POSTs sent
local answered = 0 -- answers to POSTs
local stopped = false
local first = true

unexpected = 0
codes = {}

wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")

-- wrk.format() takes these instead of wrk.headers, not on top of them
local post_headers = {
   ["Authorization"] = wrk.headers["Authorization"],
   ["Content-Type"] = "application/json",
}

local function finish()
   if stopped then
      return
   end
   stopped = true

   local f = io.open(marker .. "." .. tid, "w")
   if f then
      f:write(answered, "\n")
      f:close()
   end

   wrk.thread:stop()
end

function request()
   -- wrk calls request() once on the first thread's state before it
   -- starts, to look at the request, and never sends what it got: every
   -- thread starts with a GET /idle, so that no POST goes there
   if first then
      first = false
      return wrk.format("GET", "/idle")
   end

   if quota == nil then
      -- threads 1..(count % threads) take one more
      quota = math.floor(count / threads)
      if tid <= count % threads then
         quota = quota + 1
      end
   end

   if sent < quota then
      sent = sent + 1
      return wrk.format("POST", path, post_headers, string.format(
         '{"userId":"r%s-t%d-%d","name":"Bench User"}', run, tid, sent))
   end

   if quota == 0 then
      finish()
   end

   return wrk.format("GET", "/idle")
end

function response(status, headers, body)
   if status == 204 then
      -- GET /idle
      return
   end

   answered = answered + 1

   if status ~= 201 then
      unexpected = unexpected + 1
      codes[status] = (codes[status] or 0) + 1
   end

   if answered >= quota then
      finish()
   end
end
