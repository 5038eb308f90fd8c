-- wrk script of bench/webhooks.sh for the baseline: what the sender sends
-- to the receiver, sent by wrk.  BENCH_BODY is the payload of a real
-- delivery of the run, BENCH_DELIVERY its id; the headers are the
-- sender's, with values of the same lengths (the receiver checks
-- nothing).  No response() hook, so that wrk stays as cheap as it can;
-- answers of 400 and above are still counted by wrk as "status" errors.

dofile(os.getenv("BENCH_DIR") .. "/report.lua")

wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "collab-webhooks/0.1.0"
wrk.headers["X-Webhook-Signature"] = string.rep("0", 64)
wrk.headers["webhook-id"] = os.getenv("BENCH_DELIVERY")
wrk.headers["webhook-timestamp"] = tostring(os.time())
wrk.headers["webhook-signature"] = "v1," .. string.rep("A", 43) .. "="
wrk.headers["Connection"] = "keep-alive"
