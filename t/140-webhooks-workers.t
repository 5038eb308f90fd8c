# Two workers create events and send deliveries at the same time: every
# delivery reaches the receiver exactly once (the claim's lease keeps one
# attempt from being sent by both), and a worker's sender picks up what
# the other worker queued.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

workers(2);
master_on();
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", $CollabTest::HttpConfig
                                     . $CollabTest::Receiver . <<'_EOC_'
    collab_webhook_allow_private   on;
    collab_webhook_retry_schedule  1s 1s;
    collab_webhook_concurrency     4;

_EOC_
        . CollabTest::spread_server('$TEST_NGINX_COLLAB_DNS_PORT'));

    $block->set_value("timeout", 20);
});

run_tests();

__DATA__

=== TEST 1: a burst of events from both workers: each delivery arrives once
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/hook/ok","events":["user.created"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/hook/flaky/1","events":["user.created"]}
port third
repeat 10 POST /v1/accounts/{acc1}/rooms/{room1}/users {}
repeat 10 POST /v1/accounts/{acc1}/rooms/{room1}/users {}
repeat 10 POST /v1/accounts/{acc1}/rooms/{room1}/users {}
wait 90
sleep 1500
tally
port first
count GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=success&limit=100
count GET /v1/accounts/{acc1}/webhooks/{wh2}/deliveries?status=success&limit=100
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/ok","events":["user.created"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh2}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/flaky/1","events":["user.created"],"roomId":null,"description":null,"enabled":true,"secret":"{secret2}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users x10 201:10 (several workers)
POST /v1/accounts/{acc1}/rooms/{room1}/users x10 201:10 (several workers)
POST /v1/accounts/{acc1}/rooms/{room1}/users x10 201:10 (several workers)
received 90
90 requests, 60 distinct webhook-ids
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=success&limit=100 200 30 items, last page
GET /v1/accounts/{acc1}/webhooks/{wh2}/deliveries?status=success&limit=100 200 30 items, last page
