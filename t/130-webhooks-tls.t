# Webhooks over HTTPS to a local TLS receiver with a test CA
# (t/lib/tls): a certificate that chains to the trusted CA and names the
# host is accepted; a wrong CA or a wrong name is a failed attempt with a
# clear error; collab_webhook_ssl_verify off accepts both.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();

our $Tls = <<'_EOC_';
    collab_webhook_allow_private   on;
    collab_webhook_retry_schedule  1s;

    server {
        listen 127.0.0.1:$TEST_NGINX_COLLAB_PORT2 ssl;
        ssl_certificate      $TEST_NGINX_COLLAB_LIB/tls/server.crt;
        ssl_certificate_key  $TEST_NGINX_COLLAB_LIB/tls/server.key;
        client_body_buffer_size 1m;
        location /hook/ {
            root logs;
            set $collab_received_file $realpath_root/received.jsonl;
            js_content collab.receive;
        }
    }

    server {
        listen 127.0.0.1:$TEST_NGINX_COLLAB_DNS_PORT ssl;
        ssl_certificate      $TEST_NGINX_COLLAB_LIB/tls/wrong.crt;
        ssl_certificate_key  $TEST_NGINX_COLLAB_LIB/tls/wrong.key;
        location / {
            return 200 "wrong name\n";
        }
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config", $CollabTest::HttpConfig . $Tls
            . "    collab_webhook_ssl_trusted_certificate"
            . " $ENV{TEST_NGINX_COLLAB_LIB}/tls/ca.crt;\n");
    }

    $block->set_value("timeout", 10) if !defined $block->timeout;
});

run_tests();

__DATA__

=== TEST 1: a certificate of the trusted CA for the host: delivered, over a kept-alive connection
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/webhooks {"url":"https://127.0.0.1:{port2}/hook/ok","events":["*"]}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test
wait 1
POST /v1/accounts/{acc1}/webhooks/{wh1}/test
wait 2
received
count GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=success
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"https://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/ok","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test 202 {"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":null,"attempts":0,"nextRetryAt":"<ts>","lastAttemptAt":null,"durationMs":null,"error":null,"createdAt":"<ts>"}
received 1
POST /v1/accounts/{acc1}/webhooks/{wh1}/test 202 {"id":"{dlv2}","event":"webhook.test","eventId":"{evt2}","status":"pending","statusCode":null,"attempts":0,"nextRetryAt":"<ts>","lastAttemptAt":null,"durationMs":null,"error":null,"createdAt":"<ts>"}
received 2
<- /hook/ok {"event":"webhook.test","data":{"webhookId":"{wh1}"},"timestamp":"<ts>"} id:{dlv1} signed:{secret1} standard:{secret1}
<- /hook/ok {"event":"webhook.test","data":{"webhookId":"{wh1}"},"timestamp":"<ts>"} id:{dlv2} signed:{secret1} standard:{secret1}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=success 200 2 items, last page

=== TEST 2: a certificate for another name is a failed attempt
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/webhooks {"url":"https://127.0.0.1:{port3}/hook","events":["*"]}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test
sleep 500
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"https://127.0.0.1:$TEST_NGINX_COLLAB_DNS_PORT/hook","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test 202 {"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":null,"attempts":0,"nextRetryAt":"<ts>","lastAttemptAt":null,"durationMs":null,"error":null,"createdAt":"<ts>"}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries 200 {"data":[{"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":null,"attempts":1,"nextRetryAt":"<ts>","lastAttemptAt":"<ts>","durationMs":<ms>,"error":"TLS certificate does not match the host name","createdAt":"<ts>"}],"nextCursor":null}

=== TEST 3: a certificate of an untrusted CA is a failed attempt
--- http_config eval
$CollabTest::HttpConfig . $::Tls . "    collab_webhook_ssl_trusted_certificate $ENV{TEST_NGINX_COLLAB_LIB}/tls/other-ca.crt;\n"
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/webhooks {"url":"https://127.0.0.1:{port2}/hook/ok","events":["*"]}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test
sleep 500
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries
received
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"https://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/ok","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test 202 {"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":null,"attempts":0,"nextRetryAt":"<ts>","lastAttemptAt":null,"durationMs":null,"error":null,"createdAt":"<ts>"}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries 200 {"data":[{"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":null,"attempts":1,"nextRetryAt":"<ts>","lastAttemptAt":"<ts>","durationMs":<ms>,"error":"TLS certificate verify failed: (21:unable to verify the first certificate)","createdAt":"<ts>"}],"nextCursor":null}

=== TEST 4: with collab_webhook_ssl_verify off, the untrusted certificate is accepted
--- http_config eval
$CollabTest::HttpConfig . $::Tls . "    collab_webhook_ssl_trusted_certificate $ENV{TEST_NGINX_COLLAB_LIB}/tls/other-ca.crt;\n    collab_webhook_ssl_verify off;\n"
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/webhooks {"url":"https://127.0.0.1:{port2}/hook/ok","events":["*"]}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test
wait 1
sleep 300
count GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=success
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"https://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/ok","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test 202 {"id":"{dlv1}","event":"webhook.test","eventId":"{evt1}","status":"pending","statusCode":null,"attempts":0,"nextRetryAt":"<ts>","lastAttemptAt":null,"durationMs":null,"error":null,"createdAt":"<ts>"}
received 1
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries?status=success 200 1 items, last page
