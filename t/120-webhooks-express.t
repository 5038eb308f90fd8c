# Webhook deliveries checked by the product document's own verifier: the
# Express handler of "Verify Webhook Signatures" (t/express/receiver.js,
# run with node) receives every delivery of a webhook subscribed to "*",
# and recomputes the HMAC-SHA256 over JSON.stringify(req.body) after
# express.json() parsed it.  It must accept all of them, before and after
# a secret rotation, and must refuse (401) a delivery it has no secret for.
# (TEST 2 retries only after a minute, so that a refused delivery stays
# pending with its 401 until it is retried by hand.)
#
# The scenario reaches the receiver through "location /express/" of the API
# server (POST /express/secrets registers a secret, GET /express/log lists
# what it got; TEST 1 has it sorted by event, since deliveries in flight
# at the same time may arrive in any order).  The receiver runs through
# t/inc/CollabExpress.pm: it needs node, and express in
# TEST_NGINX_COLLAB_EXPRESS_DIR (default build/express, where util/deps.sh
# runs "npm ci"): without node the file is skipped, without express it
# fails.

use strict;
use warnings;

use lib 't/inc';
use CollabExpress;

our $Skip;
BEGIN { $Skip = CollabExpress::skip_reason(); }

use CollabTest;
use Test::Nginx::Socket $Skip ? (skip_all => $Skip) : ('no_plan');

add_test_cleanup_handler(sub { CollabExpress::stop() });
add_cleanup_handler(sub { CollabExpress::stop() });

no_shuffle();

our $ExpressConfig = $CollabTest::Config . $CollabExpress::Location;

add_block_preprocessor(sub {
    my $block = shift;

    # one delivery at a time, so that the receiver's log is in event order
    if (!defined $block->http_config) {
        $block->set_value("http_config", $CollabTest::HttpConfig
                                         . $CollabExpress::HttpConfig);
    }

    $block->set_value("config", $ExpressConfig) if !defined $block->config;
    $block->set_value("init", "CollabExpress::start();")
        if !defined $block->init;
    $block->set_value("timeout", 30) if !defined $block->timeout;
});

run_tests();

__DATA__

=== TEST 1: the document's Express verifier accepts every delivery, across a rotation
--- request eval
(my $steps = <<'_EOS_') =~ s/EXPRESS_PORT/$ENV{TEST_NGINX_COLLAB_EXPRESS_PORT}/g;
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:EXPRESS_PORT/collab-webhook","events":["*"]}
POST /express/secrets {"secret":"{secret1}"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u.2:x@y-z_","name":"Zo\u00eb \u2603 \ud834\udd1e","metadata":{"2":"two","1":"one","price":1.50,"big":1e21,"small":1E-7,"zero":-0,"long":123456789012345678901234567890,"ctl":"a\u0001b\tc\n\"q\"\\/\u001f","nested":{"b":[1.0,{"2":true,"1":null}],"a":"\u00e9"}}}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-001 {"name":"Ann","metadata":{"note":"caf\u00e9 \u0007"}}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/u.2:x@y-z_ {"email":"z@example.com","metadata":{}}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/user-001
GET /express/log?count=6&sorted=1
POST /v1/accounts/{acc1}/webhooks/{wh1}/rotate-secret
POST /express/secrets {"secret":"{secret2}"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-003","metadata":{"10":1,"9":2.50}}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-003 {"name":"B\u00f6b"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/u.2:x@y-z_
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/user-003
POST /v1/accounts/{acc1}/webhooks/{wh1}/test
GET /express/log?count=11&sorted=1
sleep 300
count GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=success&limit=100
count GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=pending
count GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=failed
_EOS_
$steps
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_EXPRESS_PORT/collab-webhook","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /express/secrets 201 {"secrets":1}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u.2:x@y-z_","roomId":"{room1}","name":"Zoë ☃ 𝄞","email":null,"metadata":{"1":"one","2":"two","price":1.5,"big":1e+21,"small":1e-7,"zero":0,"long":1.2345678901234568e+29,"ctl":"a\u0001b\tc\n\"q\"\\/\u001f","nested":{"b":[1,{"1":null,"2":true}],"a":"é"}},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-001 200 {"userId":"user-001","roomId":"{room1}","name":"Ann","email":null,"metadata":{"note":"café \u0007"},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/u.2:x@y-z_ 200 {"userId":"u.2:x@y-z_","roomId":"{room1}","name":"Zoë ☃ 𝄞","email":"z@example.com","metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test 202 {"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":null,"attempts":0,"nextRetryAt":"<ts>","lastAttemptAt":null,"durationMs":null,"error":null,"createdAt":"<ts>"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/user-001 204
GET /express/log?count=6&sorted=1 200 [{"event":"user.created","verified":true,"status":200},{"event":"user.created","verified":true,"status":200},{"event":"user.deleted","verified":true,"status":200},{"event":"user.updated","verified":true,"status":200},{"event":"user.updated","verified":true,"status":200},{"event":"webhook.test","verified":true,"status":200}]
POST /v1/accounts/{acc1}/webhooks/{wh1}/rotate-secret 200 {"secret":"{secret2}","previousSecretExpiresAt":"<ts>"}
POST /express/secrets 201 {"secrets":2}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-003","roomId":"{room1}","name":null,"email":null,"metadata":{"9":2.5,"10":1},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-003 200 {"userId":"user-003","roomId":"{room1}","name":"Böb","email":null,"metadata":{"9":2.5,"10":1},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/u.2:x@y-z_ 204
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/user-003 204
POST /v1/accounts/{acc1}/webhooks/{wh1}/test 202 {"id":"{dlv2}","event":"webhook.test","eventId":"{evt2}","status":"pending","statusCode":null,"attempts":0,"nextRetryAt":"<ts>","lastAttemptAt":null,"durationMs":null,"error":null,"createdAt":"<ts>"}
GET /express/log?count=11&sorted=1 200 [{"event":"user.created","verified":true,"status":200},{"event":"user.created","verified":true,"status":200},{"event":"user.created","verified":true,"status":200},{"event":"user.deleted","verified":true,"status":200},{"event":"user.deleted","verified":true,"status":200},{"event":"user.deleted","verified":true,"status":200},{"event":"user.updated","verified":true,"status":200},{"event":"user.updated","verified":true,"status":200},{"event":"user.updated","verified":true,"status":200},{"event":"webhook.test","verified":true,"status":200},{"event":"webhook.test","verified":true,"status":200}]
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=success&limit=100 200 11 items, last page
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=pending 200 0 items, last page
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=failed 200 0 items, last page

=== TEST 2: the verifier does refuse: 401 without the right secret, kept pending; accepted once it has it
--- http_config eval
$CollabTest::HttpConfig . <<'_EOC_';
    collab_webhook_allow_private   on;
    collab_webhook_retry_schedule  1m;
    collab_webhook_timeout         3s;
_EOC_
--- request eval
(my $steps = <<'_EOS_') =~ s/EXPRESS_PORT/$ENV{TEST_NGINX_COLLAB_EXPRESS_PORT}/g;
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:EXPRESS_PORT/collab-webhook","events":["*"]}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
GET /express/log?count=1
POST /express/secrets {"secret":"not-the-webhook-secret"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test
GET /express/log?count=2
sleep 300
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries
POST /express/secrets {"secret":"{secret1}"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/{dlv1}/retry
GET /express/log?count=3
sleep 300
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/{dlv1}
_EOS_
$steps
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_EXPRESS_PORT/collab-webhook","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /express/log?count=1 200 [{"event":"user.created","verified":false,"status":401}]
POST /express/secrets 201 {"secrets":1}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test 202 {"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":null,"attempts":0,"nextRetryAt":"<ts>","lastAttemptAt":null,"durationMs":null,"error":null,"createdAt":"<ts>"}
GET /express/log?count=2 200 [{"event":"user.created","verified":false,"status":401},{"event":"webhook.test","verified":false,"status":401}]
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries 200 {"data":[{"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":401,"attempts":1,"nextRetryAt":"<ts>","lastAttemptAt":"<ts>","durationMs":<ms>,"error":"the endpoint answered 401","createdAt":"<ts>"},{"id":"{dlv2}","event":"user.created","eventId":"{evt2}","status":"pending","statusCode":401,"attempts":1,"nextRetryAt":"<ts>","lastAttemptAt":"<ts>","durationMs":<ms>,"error":"the endpoint answered 401","createdAt":"<ts>"}],"nextCursor":null}
POST /express/secrets 201 {"secrets":2}
POST /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/{dlv1}/retry 202 {"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":401,"attempts":1,"nextRetryAt":"<ts>","lastAttemptAt":"<ts>","durationMs":<ms>,"error":"the endpoint answered 401","createdAt":"<ts>"}
GET /express/log?count=3 200 [{"event":"user.created","verified":false,"status":401},{"event":"webhook.test","verified":false,"status":401},{"event":"webhook.test","verified":true,"status":200}]
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/{dlv1} 200 {"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"success","statusCode":200,"attempts":2,"nextRetryAt":null,"lastAttemptAt":"<ts>","durationMs":<ms>,"error":null,"createdAt":"<ts>","payload":{"event":"webhook.test","data":{"webhookId":"{wh1}"},"timestamp":"<ts>"},"attemptLog":[{"at":"<ts>","statusCode":401,"durationMs":<ms>,"error":"the endpoint answered 401","response":"Invalid signature"},{"at":"<ts>","statusCode":200,"durationMs":<ms>,"error":null,"response":"OK"}]}
