# Logging as nginx users expect.  With "error_log ... debug" (Debian's
# nginx is built --with-debug) every API request logs the route it matched
# and its parameters, the kind of token, the body it reads, and the work
# it hands to the store; the webhook sender's lines say what it was doing
# ("while SSL handshaking to ...").  Skipped with an nginx built without
# debug logging.

use lib 't/inc';
use CollabTest;

BEGIN {
    my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
    $nginx = '/usr/sbin/nginx'
        if system("command -v $nginx >/dev/null 2>&1") != 0;

    if (`$nginx -V 2>&1` !~ /--with-debug/) {
        print "1..0 # SKIP $nginx is built without --with-debug\n";
        exit 0;
    }
}

use Test::Nginx::Socket 'no_plan';

no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config", $CollabTest::HttpConfig
                                         . $CollabTest::Receiver . <<'_EOC_');
    collab_webhook_allow_private   on;
    collab_webhook_retry_schedule  1h;
_EOC_
    }
});

run_tests();

__DATA__

=== TEST 1: a write and a read: route and parameters, token, body, the store's work
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/keys {}
as {tok1}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u1"}
GET /v1/accounts/{acc1}/rooms/{room1}/users/u1
--- response_body_like
POST /v1/accounts/\{acc1\}/rooms/\{room1\}/users 201 .*
GET /v1/accounts/\{acc1\}/rooms/\{room1\}/users/u1 200 .*
--- error_log eval
[
'collab route: POST "accounts", 0 params',
'collab auth: the admin token',
qr/collab auth: an account key of "acc_\w{22}"/,
qr/collab route: POST "accounts\/:\/rooms\/:\/users", 2 params/,
qr/collab route: param 0: "acc_\w{22}"/,
qr/collab route: param 1: "[0-9a-f]{8}-[0-9a-f-]{27}"/,
'collab handler: body: a JSON object',
qr/collab handler: work \w+ posted to the store/,
qr/collab handler: work \w+ done rc:0 db:0, answer 201/,
qr/collab route: GET "accounts\/:\/rooms\/:\/users\/:", 3 params/,
'collab route: param 2: "u1"',
'collab handler: body: none',
'collab handler: read on the event loop',
]



=== TEST 2: refusals: no token, an unknown token, no route, no such method
--- request
POST /t
as none
GET /v1/accounts/acc_0000000000000000000000
as ck_unknown_token_of_nobody_000000000000000000000
GET /v1/accounts/acc_0000000000000000000000
DELETE /v1/accounts
GET /v1/no/such/route
GET /elsewhere
--- response_body_like
GET /v1/accounts/acc_0000000000000000000000 401 .*
GET /v1/accounts/acc_0000000000000000000000 401 .*
DELETE /v1/accounts 405 .*
GET /v1/no/such/route 404 .*
GET /elsewhere 404 .*
--- config eval
$CollabTest::Config . q{
    location /elsewhere {
        collab_api;
    }
}
--- error_log eval
[
'collab auth: no token',
'collab auth: an unknown or revoked token',
'collab route: "accounts" has no method DELETE',
'collab route: no route matches 3 segments',
'collab route: not an API path',
]



=== TEST 3: the sender says what it was doing: an https webhook to a plain HTTP port
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/webhooks {"url":"https://127.0.0.1:{port2}/hook/ok","events":["*"]}
POST /v1/accounts/{acc1}/webhooks/{wh1}/test
sleep 500
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries
--- response_body_like
"status":"pending","statusCode":null,"attempts":1,.*"error":"TLS handshake failed".*
--- error_log eval
qr/SSL_do_handshake\(\) failed .* while SSL handshaking to "https:\/\/127\.0\.0\.1:\d+\/hook\/ok" for webhook delivery dlv_\w{22}/
