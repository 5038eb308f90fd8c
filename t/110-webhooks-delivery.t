# Webhook delivery: signed POSTs from nginx's event loop to a real receiver
# (an njs location on the second port that records what it gets); retries,
# 410, exhaustion, manual retry and recovery, rotation, the delivery log.
# The receiver's lines show which known secret signed each request, checked
# as the product document's verifier does (HMAC over
# JSON.stringify(JSON.parse(body))) and as Standard Webhooks does.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config", $CollabTest::HttpConfig
                                         . $CollabTest::Receiver . <<'_EOC_');
    collab_webhook_allow_private   on;
    collab_webhook_retry_schedule  1s 1s;
    collab_webhook_timeout         1s;
_EOC_
    }

    $block->set_value("timeout", 20) if !defined $block->timeout;
});

run_tests();

__DATA__

=== TEST 1: each user event reaches a subscribed webhook, signed both ways
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/hook/ok","events":["user.created","user.updated","user.deleted"]}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-001 {"name":"Ann"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/user-001
wait 3
received
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?limit=10
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/ok","events":["user.created","user.updated","user.deleted"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-001 200 {"userId":"user-001","roomId":"{room1}","name":"Ann","email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/user-001 204
received 3
<- /hook/ok {"event":"user.created","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
<- /hook/ok {"event":"user.updated","data":{"userId":"user-001","roomId":"{room1}","fields":["name"]},"timestamp":"<ts>"} id:{dlv2} signed:{secret1} standard:{secret1}
<- /hook/ok {"event":"user.deleted","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv3} signed:{secret1} standard:{secret1}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?limit=10 200 {"data":[{"id":"{dlv3}","event":"user.deleted","eventId":"{evt1}","status":"success","statusCode":200,"attempts":1,"nextRetryAt":null,"lastAttemptAt":"<ts>","durationMs":<ms>,"error":null,"createdAt":"<ts>"},{"id":"{dlv2}","event":"user.updated","eventId":"{evt2}","status":"success","statusCode":200,"attempts":1,"nextRetryAt":null,"lastAttemptAt":"<ts>","durationMs":<ms>,"error":null,"createdAt":"<ts>"},{"id":"{dlv1}","event":"user.created","eventId":"{evt3}","status":"success","statusCode":200,"attempts":1,"nextRetryAt":null,"lastAttemptAt":"<ts>","durationMs":<ms>,"error":null,"createdAt":"<ts>"}],"nextCursor":null}

=== TEST 2: unsubscribed and disabled webhooks get nothing; "*" gets everything
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/hook/ok/deleted-only","events":["user.deleted"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/hook/ok/disabled","events":["*"],"enabled":false}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/hook/ok/all","events":["*"]}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u"}
wait 1
sleep 300
received
count GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries
count GET /v1/accounts/{acc1}/webhooks/{wh2}/deliveries
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/ok/deleted-only","events":["user.deleted"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh2}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/ok/disabled","events":["*"],"roomId":null,"description":null,"enabled":false,"secret":"{secret2}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh3}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/ok/all","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret3}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
received 1
<- /hook/ok/all {"event":"user.created","data":{"userId":"u","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret3} standard:{secret3}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries 200 0 items, last page
GET /v1/accounts/{acc1}/webhooks/{wh2}/deliveries 200 0 items, last page

=== TEST 3: a room-scoped webhook gets only its room's events, until unscoped
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r1"}
POST /v1/accounts/{acc1}/rooms {"name":"r2"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/hook/ok","events":["user.created"],"roomId":"{room1}"}
POST /v1/accounts/{acc1}/rooms/{room2}/users {"userId":"in-r2"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"in-r1"}
wait 1
sleep 300
received
PATCH /v1/accounts/{acc1}/webhooks/{wh1} {"roomId":null}
POST /v1/accounts/{acc1}/rooms/{room2}/users {"userId":"in-r2-again"}
wait 2
received
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r1","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room2}","name":"r2","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/ok","events":["user.created"],"roomId":"{room1}","description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room2}/users 201 {"userId":"in-r2","roomId":"{room2}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"in-r1","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
received 1
<- /hook/ok {"event":"user.created","data":{"userId":"in-r1","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
PATCH /v1/accounts/{acc1}/webhooks/{wh1} 200 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/ok","events":["user.created"],"roomId":null,"description":null,"enabled":true,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room2}/users 201 {"userId":"in-r2-again","roomId":"{room2}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
received 2
<- /hook/ok {"event":"user.created","data":{"userId":"in-r2-again","roomId":"{room2}"},"timestamp":"<ts>"} id:{dlv2} signed:{secret1} standard:{secret1}

=== TEST 4: a 500 is retried on the schedule, then the delivery fails
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/hook/status/500","events":["*"]}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u"}
wait 3
sleep 500
received
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/{dlv1}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/status/500","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
received 3
<- /hook/status/500 {"event":"user.created","data":{"userId":"u","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
<- /hook/status/500 {"event":"user.created","data":{"userId":"u","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
<- /hook/status/500 {"event":"user.created","data":{"userId":"u","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/{dlv1} 200 {"id":"{dlv1}","event":"user.created","eventId":"{evt1}","status":"failed","statusCode":500,"attempts":3,"nextRetryAt":null,"lastAttemptAt":"<ts>","durationMs":<ms>,"error":"the endpoint answered 500","createdAt":"<ts>","payload":{"event":"user.created","data":{"userId":"u","roomId":"{room1}"},"timestamp":"<ts>"},"attemptLog":[{"at":"<ts>","statusCode":500,"durationMs":<ms>,"error":"the endpoint answered 500","response":"status 500\n"},{"at":"<ts>","statusCode":500,"durationMs":<ms>,"error":"the endpoint answered 500","response":"status 500\n"},{"at":"<ts>","statusCode":500,"durationMs":<ms>,"error":"the endpoint answered 500","response":"status 500\n"}]}

=== TEST 5: a flaky endpoint succeeds on a retry with the same webhook-id
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/hook/flaky/1","events":["*"]}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u"}
wait 2
sleep 300
received
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/flaky/1","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
received 2
<- /hook/flaky/1 {"event":"user.created","data":{"userId":"u","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
<- /hook/flaky/1 {"event":"user.created","data":{"userId":"u","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries 200 {"data":[{"id":"{dlv1}","event":"user.created","eventId":"{evt1}","status":"success","statusCode":200,"attempts":2,"nextRetryAt":null,"lastAttemptAt":"<ts>","durationMs":<ms>,"error":null,"createdAt":"<ts>"}],"nextCursor":null}

=== TEST 6: 410 Gone disables the webhook and fails the delivery at once
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/hook/status/410","events":["*"]}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u"}
wait 1
sleep 1500
GET /v1/accounts/{acc1}/webhooks/{wh1}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"v"}
sleep 300
count GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries
received
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/status/410","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
received 1
GET /v1/accounts/{acc1}/webhooks/{wh1} 200 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/status/410","events":["*"],"roomId":null,"description":null,"enabled":false,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries 200 {"data":[{"id":"{dlv1}","event":"user.created","eventId":"{evt1}","status":"failed","statusCode":410,"attempts":1,"nextRetryAt":null,"lastAttemptAt":"<ts>","durationMs":<ms>,"error":"the endpoint answered 410","createdAt":"<ts>"}],"nextCursor":null}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"v","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries 200 1 items, last page
<- /hook/status/410 {"event":"user.created","data":{"userId":"u","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
--- error_log
its endpoint answered 410 Gone

=== TEST 7: a redirect is a failure: it is not followed
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/hook/status/302","events":["*"]}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test
wait 1
sleep 300
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=pending
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/status/302","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test 202 {"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":null,"attempts":0,"nextRetryAt":"<ts>","lastAttemptAt":null,"durationMs":null,"error":null,"createdAt":"<ts>"}
received 1
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=pending 200 {"data":[{"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":302,"attempts":1,"nextRetryAt":"<ts>","lastAttemptAt":"<ts>","durationMs":<ms>,"error":"the endpoint answered 302","createdAt":"<ts>"}],"nextCursor":null}

=== TEST 8: a refused connection and a timeout are failed attempts with their reason
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:1/hook","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/hook/slow/3000","events":["*"]}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test
sleep 300
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries
POST /v1/accounts/{acc1}/webhooks/{wh2}/test
sleep 1400
GET /v1/accounts/{acc1}/webhooks/{wh2}/deliveries
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:1/hook","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh2}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/slow/3000","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret2}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test 202 {"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":null,"attempts":0,"nextRetryAt":"<ts>","lastAttemptAt":null,"durationMs":null,"error":null,"createdAt":"<ts>"}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries 200 {"data":[{"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":null,"attempts":1,"nextRetryAt":"<ts>","lastAttemptAt":"<ts>","durationMs":<ms>,"error":"connect() failed: Connection refused","createdAt":"<ts>"}],"nextCursor":null}
POST /v1/accounts/{acc1}/webhooks/{wh2}/test 202 {"id":"{dlv2}","event":"webhook.test","eventId":"{evt2}","status":"pending","statusCode":null,"attempts":0,"nextRetryAt":"<ts>","lastAttemptAt":null,"durationMs":null,"error":null,"createdAt":"<ts>"}
GET /v1/accounts/{acc1}/webhooks/{wh2}/deliveries 200 {"data":[{"id":"{dlv2}","event":"webhook.test","eventId":"{evt2}","status":"pending","statusCode":null,"attempts":1,"nextRetryAt":"<ts>","lastAttemptAt":"<ts>","durationMs":<ms>,"error":"timed out","createdAt":"<ts>"}],"nextCursor":null}

=== TEST 9: 429 with Retry-After waits at least that long, within [d, 2d]
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/hook/retry-after/2","events":["*"]}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test
wait 1
sleep 1200
count GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=pending
wait 2
received
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/retry-after/2","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test 202 {"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":null,"attempts":0,"nextRetryAt":"<ts>","lastAttemptAt":null,"durationMs":null,"error":null,"createdAt":"<ts>"}
received 1
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=pending 200 1 items, last page
received 2
<- /hook/retry-after/2 {"event":"webhook.test","data":{"webhookId":"{wh1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
<- /hook/retry-after/2 {"event":"webhook.test","data":{"webhookId":"{wh1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}

=== TEST 10: a failed delivery is retried by hand, and recovered by time window
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/hook/status/400","events":["*"]}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test
POST /v1/accounts/{acc1}/webhooks/{wh1}/test
wait 6
sleep 500
count GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=failed
POST /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/{dlv1}/retry
wait 7
sleep 300
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/{dlv1}
POST /v1/accounts/{acc1}/webhooks/{wh1}/recover {"since":"2020-01-01T00:00:00.000Z"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/recover {"since":"2999-01-01T00:00:00Z"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/recover {"since":"yesterday"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/recover {}
POST /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/dlv_0000000000000000000000/retry
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/status/400","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test 202 {"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":null,"attempts":0,"nextRetryAt":"<ts>","lastAttemptAt":null,"durationMs":null,"error":null,"createdAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test 202 {"id":"{dlv2}","event":"webhook.test","eventId":"{evt2}","status":"pending","statusCode":null,"attempts":0,"nextRetryAt":"<ts>","lastAttemptAt":null,"durationMs":null,"error":null,"createdAt":"<ts>"}
received 6
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=failed 200 2 items, last page
POST /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/{dlv1}/retry 202 {"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":400,"attempts":3,"nextRetryAt":"<ts>","lastAttemptAt":"<ts>","durationMs":<ms>,"error":"the endpoint answered 400","createdAt":"<ts>"}
received 7
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/{dlv1} 200 {"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"failed","statusCode":400,"attempts":4,"nextRetryAt":null,"lastAttemptAt":"<ts>","durationMs":<ms>,"error":"the endpoint answered 400","createdAt":"<ts>","payload":{"event":"webhook.test","data":{"webhookId":"{wh1}"},"timestamp":"<ts>"},"attemptLog":[{"at":"<ts>","statusCode":400,"durationMs":<ms>,"error":"the endpoint answered 400","response":"status 400\n"},{"at":"<ts>","statusCode":400,"durationMs":<ms>,"error":"the endpoint answered 400","response":"status 400\n"},{"at":"<ts>","statusCode":400,"durationMs":<ms>,"error":"the endpoint answered 400","response":"status 400\n"},{"at":"<ts>","statusCode":400,"durationMs":<ms>,"error":"the endpoint answered 400","response":"status 400\n"}]}
POST /v1/accounts/{acc1}/webhooks/{wh1}/recover 400 {"error":{"code":"invalid_request","message":"since: must be at most 14 days ago","field":"since"}}
POST /v1/accounts/{acc1}/webhooks/{wh1}/recover 400 {"error":{"code":"invalid_request","message":"until: must be after since","field":"until"}}
POST /v1/accounts/{acc1}/webhooks/{wh1}/recover 400 {"error":{"code":"invalid_request","message":"since: must be an ISO 8601 UTC time such as <ts>","field":"since"}}
POST /v1/accounts/{acc1}/webhooks/{wh1}/recover 400 {"error":{"code":"invalid_request","message":"since: is required","field":"since"}}
POST /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/dlv_0000000000000000000000/retry 404 {"error":{"code":"not_found","message":"delivery not found"}}

=== TEST 11: the delivery log pages and filters by status
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/hook/ok","events":["*"]}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test
POST /v1/accounts/{acc1}/webhooks/{wh1}/test
POST /v1/accounts/{acc1}/webhooks/{wh1}/test
wait 3
sleep 300
count GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?limit=2
count GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?limit=2&status=success
count GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=failed
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=lost
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?limit=0
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/ok","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test 202 {"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":null,"attempts":0,"nextRetryAt":"<ts>","lastAttemptAt":null,"durationMs":null,"error":null,"createdAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test 202 {"id":"{dlv2}","event":"webhook.test","eventId":"{evt2}","status":"pending","statusCode":null,"attempts":0,"nextRetryAt":"<ts>","lastAttemptAt":null,"durationMs":null,"error":null,"createdAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test 202 {"id":"{dlv3}","event":"webhook.test","eventId":"{evt3}","status":"pending","statusCode":null,"attempts":0,"nextRetryAt":"<ts>","lastAttemptAt":null,"durationMs":null,"error":null,"createdAt":"<ts>"}
received 3
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?limit=2 200 2 items, more
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?limit=2&status=success 200 2 items, more
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=failed 200 0 items, last page
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=lost 400 {"error":{"code":"invalid_request","message":"status: must be pending, success or failed","field":"status"}}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?limit=0 400 {"error":{"code":"invalid_request","message":"limit: must be an integer from 1 to 100","field":"limit"}}

=== TEST 12: a name that resolves to a loopback address is refused after DNS
--- http_config eval
$CollabTest::HttpConfig . $CollabTest::Receiver . <<'_EOC_';
    collab_webhook_retry_schedule  1s;
    resolver 127.0.0.1:$TEST_NGINX_COLLAB_DNS_PORT valid=1s ipv6=off;
    resolver_timeout 1s;
_EOC_
--- init
system("perl $ENV{TEST_NGINX_COLLAB_LIB}/dns-responder.pl"
       . " $ENV{TEST_NGINX_COLLAB_DNS_PORT} 127.0.0.1 8 &");
select(undef, undef, undef, 0.5);
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://rebind.test:{port2}/hook/ok","events":["*"]}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test
sleep 500
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries
received
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://rebind.test:$TEST_NGINX_COLLAB_PORT2/hook/ok","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test 202 {"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":null,"attempts":0,"nextRetryAt":"<ts>","lastAttemptAt":null,"durationMs":null,"error":null,"createdAt":"<ts>"}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries 200 {"data":[{"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":null,"attempts":1,"nextRetryAt":"<ts>","lastAttemptAt":"<ts>","durationMs":<ms>,"error":"the host resolves to a loopback address","createdAt":"<ts>"}],"nextCursor":null}
