# Presence events reach webhooks like every other event, and the product
# document's own Express verifier (t/express/receiver.js, see
# t/120-webhooks-express.t) accepts every one of them and prints what its
# handler prints: "User ... joined room ..." and "Session ended in room
# ...".  Skipped without node; without express (make deps) it fails.

use strict;
use warnings;

use lib 't/inc';
use CollabExpress;

our $Skip;
BEGIN { $Skip = CollabExpress::skip_reason(); }

use CollabTest;
use CollabPresence;
use Test::Nginx::Socket $Skip ? (skip_all => $Skip) : ('no_plan');

add_test_cleanup_handler(sub { CollabExpress::stop() });
add_cleanup_handler(sub { CollabExpress::stop() });

our $HttpConfig = CollabPresence::http_config(0, $CollabExpress::HttpConfig);
our $Config = $CollabPresence::Config . $CollabExpress::Location;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the document's Express verifier accepts the presence events and prints its handler's lines
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
CollabExpress::start();
(my $steps = <<'_EOS_') =~ s/EXPRESS_PORT/$ENV{TEST_NGINX_COLLAB_EXPRESS_PORT}/g;
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-002"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-002/tokens {}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1:EXPRESS_PORT/collab-webhook","events":["participant.joined","participant.left","session.started","session.closed"]}
POST /express/secrets {"secret":"{secret1}"}
open A {ctok1}
open B {ctok2}
close A
close B
express 6
file express.log sorted
_EOS_
CollabPresence::run($steps);
--- request
GET /transcript
--- timeout: 30
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-002","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 201 {"token":"{ctok1}","expiresAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-002/tokens 201 {"token":"{ctok2}","expiresAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_EXPRESS_PORT/collab-webhook","events":["participant.joined","participant.left","session.started","session.closed"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /express/secrets 201 {"secrets":1}
open A 200
open B 200
express: 200 {"event":"participant.joined","verified":true,"status":200},{"event":"participant.joined","verified":true,"status":200},{"event":"participant.left","verified":true,"status":200},{"event":"participant.left","verified":true,"status":200},{"event":"session.closed","verified":true,"status":200},{"event":"session.started","verified":true,"status":200}
express.log: Session ended in room {room1}
express.log: User user-001 joined room {room1}
express.log: User user-002 joined room {room1}
