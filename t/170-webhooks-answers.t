# How the sender reads answers: interim 1xx answers (100 Continue, 103
# Early Hints) are skipped and the final answer counts; two different
# Content-Length headers make a failed attempt, not a success.  The
# receiver is t/lib/raw-receiver.pl, which answers with exact bytes.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_COLLAB_RAW_PORT} ||= ($ENV{TEST_NGINX_PORT} || 1984) + 5;

no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", $CollabTest::HttpConfig . <<'_EOC_');
    collab_webhook_allow_private   on;
    collab_webhook_retry_schedule  1h;
    collab_webhook_timeout         2s;
_EOC_

    # {port2} of the steps is the raw receiver's port
    my $config = $CollabTest::Config;
    $config =~ s/\$TEST_NGINX_COLLAB_PORT2/\$TEST_NGINX_COLLAB_RAW_PORT/;
    $block->set_value("config", $config);
    $block->set_value("timeout", 20);
    $block->set_value("init", <<'_EOC_');
my $root = Test::Nginx::Socket::server_root();
my $port = $ENV{TEST_NGINX_COLLAB_RAW_PORT};
my $pidfile = "/tmp/collab-raw-receiver-$port.pid";
# the receiver of the block before goes first
if (open my $fh, '<', $pidfile) {
    my $pid = <$fh>;
    kill 'TERM', $pid if $pid && $pid =~ /^\d+$/;
    select(undef, undef, undef, 0.2);
}
system("perl $ENV{TEST_NGINX_COLLAB_LIB}/raw-receiver.pl $port 15"
       . " $root/logs/received.jsonl $pidfile >/dev/null 2>&1 &");
select(undef, undef, undef, 0.3);
_EOC_
});

run_tests();

__DATA__

=== TEST 1: 100 Continue and 103 Early Hints are skipped; the final answer counts
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/interim/100","events":["user.created"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/interim/103","events":["user.created"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/interim/both","events":["user.created"]}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u"}
wait 3
sleep 500
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries
GET /v1/accounts/{acc1}/webhooks/{wh2}/deliveries
GET /v1/accounts/{acc1}/webhooks/{wh3}/deliveries
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_RAW_PORT/interim/100","events":["user.created"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh2}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_RAW_PORT/interim/103","events":["user.created"],"roomId":null,"description":null,"enabled":true,"secret":"{secret2}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh3}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_RAW_PORT/interim/both","events":["user.created"],"roomId":null,"description":null,"enabled":true,"secret":"{secret3}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
received 3
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries 200 {"data":[{"id":"{dlv1}","event":"user.created","eventId":"{evt1}","status":"success","statusCode":200,"attempts":1,"nextRetryAt":null,"lastAttemptAt":"<ts>","durationMs":<ms>,"error":null,"createdAt":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/webhooks/{wh2}/deliveries 200 {"data":[{"id":"{dlv2}","event":"user.created","eventId":"{evt1}","status":"success","statusCode":200,"attempts":1,"nextRetryAt":null,"lastAttemptAt":"<ts>","durationMs":<ms>,"error":null,"createdAt":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/webhooks/{wh3}/deliveries 200 {"data":[{"id":"{dlv3}","event":"user.created","eventId":"{evt1}","status":"success","statusCode":201,"attempts":1,"nextRetryAt":null,"lastAttemptAt":"<ts>","durationMs":<ms>,"error":null,"createdAt":"<ts>"}],"nextCursor":null}

=== TEST 2: two different Content-Length headers fail the attempt; the same one twice is fine
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/length/twice","events":["user.created"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/length/same","events":["user.created"]}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u"}
wait 2
sleep 500
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries
GET /v1/accounts/{acc1}/webhooks/{wh2}/deliveries
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_RAW_PORT/length/twice","events":["user.created"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh2}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_RAW_PORT/length/same","events":["user.created"],"roomId":null,"description":null,"enabled":true,"secret":"{secret2}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
received 2
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries 200 {"data":[{"id":"{dlv1}","event":"user.created","eventId":"{evt1}","status":"pending","statusCode":null,"attempts":1,"nextRetryAt":"<ts>","lastAttemptAt":"<ts>","durationMs":<ms>,"error":"the response is not valid HTTP: two different Content-Length headers","createdAt":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/webhooks/{wh2}/deliveries 200 {"data":[{"id":"{dlv2}","event":"user.created","eventId":"{evt1}","status":"success","statusCode":200,"attempts":1,"nextRetryAt":null,"lastAttemptAt":"<ts>","durationMs":<ms>,"error":null,"createdAt":"<ts>"}],"nextCursor":null}
