# Finished deliveries older than collab_delivery_retention are purged, on
# a clock of their own: here the retention is 2 s and events keep the
# sender busy every half second, so that no pause ever lets an idle-time
# timer fire.  The first delivery is gone, the recent ones are kept.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", $CollabTest::HttpConfig
                                     . $CollabTest::Receiver . <<'_EOC_');
    collab_webhook_allow_private   on;
    collab_delivery_retention      2s;
_EOC_

    $block->set_value("timeout", 20);
});

run_tests();

__DATA__

=== TEST 1: a short retention purges finished deliveries while sending goes on
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:{port2}/hook/ok","events":["user.created"]}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u0"}
wait 1
received
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u1"}
sleep 500
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u2"}
sleep 500
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u3"}
sleep 500
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u4"}
sleep 500
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u5"}
sleep 500
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u6"}
sleep 500
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u7"}
sleep 500
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u8"}
sleep 500
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u9"}
sleep 500
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u10"}
sleep 500
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u11"}
sleep 500
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u12"}
sleep 500
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/{dlv1}
count GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?limit=1&status=success
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/ok","events":["user.created"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u0","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
received 1
<- /hook/ok {"event":"user.created","data":{"userId":"u0","roomId":"{room1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u1","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u2","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u3","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u4","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u5","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u6","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u7","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u8","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u9","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u10","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u11","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u12","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries/{dlv1} 404 {"error":{"code":"not_found","message":"delivery not found"}}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?limit=1&status=success 200 1 items, more
