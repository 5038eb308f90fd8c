# Deliveries outlive the processes that send them: a claim whose worker
# died comes back when its lease runs out (the state a kill -9 leaves,
# made here directly in the database), a live lease of another worker is
# left alone, and a reload of nginx goes on sending.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

master_on();
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", $CollabTest::HttpConfig
                                     . $CollabTest::Receiver . <<'_EOC_');
    collab_webhook_allow_private   on;
    collab_webhook_retry_schedule  1s 1s;
_EOC_

    $block->set_value("timeout", 20);
});

run_tests();

__DATA__

=== TEST 1: an expired claim is sent again; a live one is not sent twice
--- init
my $db = Test::Nginx::Socket::server_root() . "/logs/collab.db";
my $url = "http://127.0.0.1:$ENV{TEST_NGINX_COLLAB_PORT2}/hook/ok";
my $now = int(time * 1000);
my $body = '{"event":"user.created","data":{"userId":"u","roomId":'
           . '"11111111-2222-4333-8444-555555555555"},'
           . '"timestamp":"2026-01-01T00:00:00.000Z"}';
my @sql = (
    "INSERT INTO accounts (id, name, created_at)"
    . " VALUES ('acc_0000000000000000000001', 'A', 0)",
    "INSERT INTO webhooks (id, account_id, url, events, event_mask,"
    . " enabled, secret, created_at, updated_at)"
    . " VALUES ('wh_0000000000000000000001', 'acc_0000000000000000000001',"
    . " '$url', '[\"*\"]', 4294967295, 1,"
    . " 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 0, 0)",
    # claimed by a worker that died: its lease ran out a second ago
    "INSERT INTO deliveries (id, webhook_id, event_id, event, payload,"
    . " status, attempts, next_attempt_at, created_at)"
    . " VALUES ('dlv_0000000000000000000001', 'wh_0000000000000000000001',"
    . " 'evt_0000000000000000000001', 'user.created', '$body', 'pending',"
    . " 0, " . ($now - 1000) . ", $now)",
    # claimed by a live worker, its lease runs for another minute
    "INSERT INTO deliveries (id, webhook_id, event_id, event, payload,"
    . " status, attempts, next_attempt_at, created_at)"
    . " VALUES ('dlv_0000000000000000000002', 'wh_0000000000000000000001',"
    . " 'evt_0000000000000000000002', 'user.created', '$body', 'pending',"
    . " 0, " . ($now + 60000) . ", $now)",
);
system("sqlite3", $db, ".timeout 5000", @sql) == 0
    or die "sqlite3 failed\n";
--- request
POST /t
know whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
wait 1
sleep 1500
received
as admin
count GET /v1/accounts/acc_0000000000000000000001/webhooks/wh_0000000000000000000001/deliveries?status=success
count GET /v1/accounts/acc_0000000000000000000001/webhooks/wh_0000000000000000000001/deliveries?status=pending
--- response_body
received 1
<- /hook/ok {"event":"user.created","data":{"userId":"u","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
GET /v1/accounts/acc_0000000000000000000001/webhooks/wh_0000000000000000000001/deliveries?status=success 200 1 items, last page
GET /v1/accounts/acc_0000000000000000000001/webhooks/wh_0000000000000000000001/deliveries?status=pending 200 1 items, last page

=== TEST 2: a reload in the middle goes on sending, before and after
--- init
my $pid = Test::Nginx::Socket::server_root() . "/logs/nginx.pid";
system("(sleep 1; kill -HUP \$(cat '$pid')) >/dev/null 2>&1 &");
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/hook/ok","events":["user.created"]}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"before"}
wait 1
sleep 2500
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"after"}
wait 2
received
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/ok","events":["user.created"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"before","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
received 1
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"after","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
received 2
<- /hook/ok {"event":"user.created","data":{"userId":"before","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
<- /hook/ok {"event":"user.created","data":{"userId":"after","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv2} signed:{secret1} standard:{secret1}
--- error_log
reconfiguring
--- no_error_log
[alert]
[crit]
[emerg]
