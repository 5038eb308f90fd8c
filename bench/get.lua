-- wrk script of bench/run.sh for plain GETs: the request is wrk's own
-- (the URL on the command line, sent as is), with the API key of
-- BENCH_KEY when set.  No response() hook, so wrk stays as cheap as it
-- can; answers of 400 and above are still counted by wrk as "status"
-- errors.

dofile(os.getenv("BENCH_DIR") .. "/report.lua")

local key = os.getenv("BENCH_KEY")

if key and key ~= "" then
   wrk.headers["Authorization"] = "Bearer " .. key
end
