# The edge verifier (conf/njs/collab-verify.js) against real deliveries:
# the test nginx serves the API, and on the second port an edge server
# that verifies each delivery and proxies the genuine ones to the
# application behind it (the tests' receiver, t/lib/collab.js receive(),
# under /hook/).  Webhooks point at /edge/...; what reached the
# application shows in "received", what the edge refused shows as the
# delivery's 401 and the reason in its attemptLog.
#
# The edge's secrets come from nginx variables ($collab_webhook_secret and
# $collab_webhook_secret_previous) that t/lib/edge.js sets from a file,
# since a webhook's secret is known only once it is created: a scenario
# gives them with "POST /edge-secrets" on the second port.  "POST /replay"
# there sends the application's latest delivery again, as it came or
# tampered with.  Refused deliveries are retried only after a minute, so
# that they stay pending until retried by hand.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp ();

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_COLLAB_EDGE} = abs_path(dirname(__FILE__) . '/../conf/njs');

no_shuffle();

our $EdgeConfig = $CollabTest::HttpConfig . <<'_EOC_';
    collab_webhook_allow_private   on;
    collab_webhook_retry_schedule  1m;
    collab_webhook_timeout         3s;
    collab_webhook_concurrency     1;

    js_import  collab_verify from $TEST_NGINX_COLLAB_EDGE/collab-verify.js;
    js_import  edge from edge.js;
    js_set     $collab_webhook_secret           edge.secret;
    js_set     $collab_webhook_secret_previous  edge.previous;

    server {
        listen 127.0.0.1:$TEST_NGINX_COLLAB_PORT2;
        client_body_buffer_size 64k;

        root logs;
        set $collab_received_file      $realpath_root/received.jsonl;
        set $collab_edge_secrets_file  $realpath_root/edge-secrets.json;

        location /edge/ {
            js_content collab_verify.verify;
        }

        location /edge-2s/ {
            set $collab_webhook_tolerance 2;
            js_content collab_verify.verify;
        }

        location @collab_verified {
            rewrite ^/edge[^/]*/(.*)$ /hook/$1 break;
            proxy_pass http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2;
        }

        # the application
        location /hook/ {
            js_content collab.receive;
        }

        location = /edge-secrets {
            js_content edge.secrets;
        }

        location = /replay {
            js_content edge.replay;
        }
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", $EdgeConfig)
        if !defined $block->http_config;
    $block->set_value("timeout", 20) if !defined $block->timeout;
});

run_tests();

# the example configuration passes "nginx -t" as it is
{
    my $dir = File::Temp::tempdir(CLEANUP => 1);
    my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';

    $nginx = '/usr/sbin/nginx'
        if $nginx eq 'nginx' && system('command -v nginx >/dev/null') != 0;

    mkdir "$dir/logs";
    my $out = `$nginx -t -q -p $dir/ -c $ENV{TEST_NGINX_COLLAB_EDGE}/edge.conf 2>&1`;
    is($?, 0, 't/900-edge-verifier.t: conf/njs/edge.conf passes nginx -t')
        or diag($out);
}

__DATA__

=== TEST 1: genuine deliveries pass the edge and reach the application, signed both ways
(each change waits for its delivery: deliveries in flight together may
arrive in either order)
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/edge/ok","events":["*"]}
port second
POST /edge-secrets {"secret":"{secret1}"}
port first
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001","name":"Zo\u00eb \u2603","metadata":{"price":1.50}}
wait 1
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-001 {"name":"Ann"}
wait 2
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/user-001
wait 3
POST /v1/accounts/{acc1}/webhooks/{wh1}/test
wait 4
received
sleep 300
count GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=success
count GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=pending
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/edge/ok","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /edge-secrets 200 secrets secret
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":"Zoë ☃","email":null,"metadata":{"price":1.5},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
received 1
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-001 200 {"userId":"user-001","roomId":"{room1}","name":"Ann","email":null,"metadata":{"price":1.5},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
received 2
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/user-001 204
received 3
POST /v1/accounts/{acc1}/webhooks/{wh1}/test 202 {"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":null,"attempts":0,"nextRetryAt":"<ts>","lastAttemptAt":null,"durationMs":null,"error":null,"createdAt":"<ts>"}
received 4
<- /hook/ok {"event":"user.created","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv2} signed:{secret1} standard:{secret1}
<- /hook/ok {"event":"user.updated","data":{"userId":"user-001","roomId":"{room1}","fields":["name"]},"timestamp":"<ts>"} id:{dlv3} signed:{secret1} standard:{secret1}
<- /hook/ok {"event":"user.deleted","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv4} signed:{secret1} standard:{secret1}
<- /hook/ok {"event":"webhook.test","data":{"webhookId":"{wh1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=success 200 4 items, last page
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=pending 200 0 items, last page

=== TEST 2: a wrong secret: every delivery is refused with 401 and the reason, none reaches the application
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/edge/ok","events":["*"]}
know whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
port second
POST /edge-secrets {"secret":"{secret2}"}
port first
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
sleep 1000
tally
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/{dlv1}
port second
POST /edge-secrets {"secret":"{secret1}"}
port first
POST /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/{dlv1}/retry
wait 1
received
sleep 300
count GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=success
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/edge/ok","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /edge-secrets 200 secrets secret
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
0 requests, 0 distinct webhook-ids
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries 200 {"data":[{"id":"{dlv1}","event":"user.created","eventId":"{evt1}","status":"pending","statusCode":401,"attempts":1,"nextRetryAt":"<ts>","lastAttemptAt":"<ts>","durationMs":<ms>,"error":"the endpoint answered 401","createdAt":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/{dlv1} 200 {"id":"{dlv1}","event":"user.created","eventId":"{evt1}","status":"pending","statusCode":401,"attempts":1,"nextRetryAt":"<ts>","lastAttemptAt":"<ts>","durationMs":<ms>,"error":"the endpoint answered 401","createdAt":"<ts>","payload":{"event":"user.created","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"},"attemptLog":[{"at":"<ts>","statusCode":401,"durationMs":<ms>,"error":"the endpoint answered 401","response":"webhook-signature does not match\n"}]}
POST /edge-secrets 200 secrets secret
POST /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/{dlv1}/retry 202 {"id":"{dlv1}","event":"user.created","eventId":"{evt1}","status":"pending","statusCode":401,"attempts":1,"nextRetryAt":"<ts>","lastAttemptAt":"<ts>","durationMs":<ms>,"error":"the endpoint answered 401","createdAt":"<ts>"}
received 1
<- /hook/ok {"event":"user.created","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=success 200 1 items, last page

=== TEST 3: a tampered copy of a genuine delivery is refused; an intact one within the tolerance passes
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/edge/ok","events":["user.created"]}
port second
POST /edge-secrets {"secret":"{secret1}"}
port first
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
wait 1
received
port second
POST /replay {"path":"/edge/ok","body":"{\"event\":\"user.created\",\"data\":{\"userId\":\"mallory\",\"roomId\":\"{room1}\"},\"timestamp\":\"2026-01-01T00:00:00.000Z\"}"}
POST /replay {"path":"/edge/ok","headers":{"webhook-id":"dlv_0000000000000000000000"}}
POST /replay {"path":"/edge/ok","headers":{"webhook-signature":"v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}
POST /replay {"path":"/edge/ok","headers":{"X-Webhook-Signature":"0000000000000000000000000000000000000000000000000000000000000000"}}
POST /replay {"path":"/edge/ok","headers":{"X-Webhook-Signature":null}}
POST /replay {"path":"/edge/ok","headers":{"webhook-timestamp":"soon"}}
raw POST /edge/ok {}
POST /replay {"path":"/edge/ok"}
POST /replay {"path":"/edge/status/503"}
port first
received
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/edge/ok","events":["user.created"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /edge-secrets 200 secrets secret
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
received 1
<- /hook/ok {"event":"user.created","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
POST /replay 401 webhook-signature does not match
POST /replay 401 webhook-signature does not match
POST /replay 401 webhook-signature does not match
POST /replay 401 X-Webhook-Signature does not match
POST /replay 401 missing X-Webhook-Signature
POST /replay 401 missing or malformed webhook-timestamp
POST /edge/ok 401 missing webhook-id
POST /replay 200 ok
POST /replay 503 status 503
<- /hook/ok {"event":"user.created","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
<- /hook/status/503 {"event":"user.created","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}

=== TEST 4: a stale timestamp: a genuine delivery replayed after the tolerance is refused
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/edge-2s/ok","events":["user.created"]}
port second
POST /edge-secrets {"secret":"{secret1}"}
port first
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
wait 1
received
port second
POST /replay {"path":"/edge-2s/ok"}
sleep 3500
POST /replay {"path":"/edge-2s/ok"}
POST /replay {"path":"/edge/ok"}
port first
received
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/edge-2s/ok","events":["user.created"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /edge-secrets 200 secrets secret
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
received 1
<- /hook/ok {"event":"user.created","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
POST /replay 200 ok
POST /replay 401 webhook-timestamp is outside the tolerance
POST /replay 200 ok
<- /hook/ok {"event":"user.created","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
<- /hook/ok {"event":"user.created","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}

=== TEST 5: a rotation: both secrets verify while the edge is given the new one and the previous one
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/edge/ok","events":["user.created"]}
port second
POST /edge-secrets {"secret":"{secret1}"}
port first
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"before"}
wait 1
received
POST /v1/accounts/{acc1}/webhooks/{wh1}/rotate-secret
# the edge knows only the old secret: webhook-signature still has a
# signature by it, X-Webhook-Signature no longer
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"between"}
sleep 1000
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?limit=1
port second
POST /edge-secrets {"secret":"{secret2}","previous":"{secret1}"}
# the delivery made before the rotation still passes, by the previous secret
POST /replay {"path":"/edge/ok"}
port first
POST /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/{dlv2}/retry
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"after"}
wait 4
received
# the rotation is over: the new secret alone
port second
POST /edge-secrets {"secret":"{secret2}"}
POST /replay {"path":"/edge/ok"}
port first
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"later"}
wait 6
received
sleep 300
count GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=success
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/edge/ok","events":["user.created"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /edge-secrets 200 secrets secret
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"before","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
received 1
<- /hook/ok {"event":"user.created","data":{"userId":"before","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
POST /v1/accounts/{acc1}/webhooks/{wh1}/rotate-secret 200 {"secret":"{secret2}","previousSecretExpiresAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"between","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?limit=1 200 {"data":[{"id":"{dlv2}","event":"user.created","eventId":"{evt1}","status":"pending","statusCode":401,"attempts":1,"nextRetryAt":"<ts>","lastAttemptAt":"<ts>","durationMs":<ms>,"error":"the endpoint answered 401","createdAt":"<ts>"}],"nextCursor":"{cursor1}"}
POST /edge-secrets 200 secrets secret previous
POST /replay 200 ok
POST /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/{dlv2}/retry 202 {"id":"{dlv2}","event":"user.created","eventId":"{evt1}","status":"pending","statusCode":401,"attempts":1,"nextRetryAt":"<ts>","lastAttemptAt":"<ts>","durationMs":<ms>,"error":"the endpoint answered 401","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"after","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
received 4
<- /hook/ok {"event":"user.created","data":{"userId":"before","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
<- /hook/ok {"event":"user.created","data":{"userId":"between","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv2} signed:{secret2} standard:{secret2},{secret1}
<- /hook/ok {"event":"user.created","data":{"userId":"after","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv3} signed:{secret2} standard:{secret2},{secret1}
POST /edge-secrets 200 secrets secret
POST /replay 200 ok
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"later","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
received 6
<- /hook/ok {"event":"user.created","data":{"userId":"after","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv3} signed:{secret2} standard:{secret2},{secret1}
<- /hook/ok {"event":"user.created","data":{"userId":"later","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv4} signed:{secret2} standard:{secret2},{secret1}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=success 200 4 items, last page

=== TEST 6: without a secret, or with one that is not collab's, the edge answers 500 and says why in the log
--- request
POST /t
as admin
port second
raw POST /edge/ok {}
POST /edge-secrets {"secret":"whsec_REPLACE_WITH_THE_SECRET"}
raw POST /edge/ok {}
--- response_body
POST /edge/ok 500 the webhook verifier is not configured
POST /edge-secrets 200 secrets secret
POST /edge/ok 500 the webhook verifier is not configured
--- error_log
collab webhook verifier: set $collab_webhook_secret
collab webhook verifier: a secret is "whsec_" and base64
--- no_error_log
[alert]
[crit]

=== TEST 7: secrets set in nginx.conf; a body larger than client_body_buffer_size is refused with 413
--- http_config eval
$CollabTest::HttpConfig . <<'_EOC_';
    js_import  collab_verify from $TEST_NGINX_COLLAB_EDGE/collab-verify.js;
_EOC_
--- config
    location /edge/ {
        client_body_buffer_size 1k;
        set $collab_webhook_secret "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        js_content collab_verify.verify;
    }
--- request eval
["POST /edge/ok\n" . ("x" x 20000), "POST /edge/ok\n{}"]
--- error_code eval
[413, 401]
--- response_body eval
["body larger than client_body_buffer_size\n", "missing webhook-id\n"]
