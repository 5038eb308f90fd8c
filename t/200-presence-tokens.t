# Client tokens and the stream itself: a token is issued for a user of a
# room, opens that room's stream and nothing else; the stream's bytes are
# exactly the contract's (retry, snapshot, messages, heartbeat); a token
# given in the query string never reaches the logs.
#
# Each block runs its scenario (t/inc/CollabPresence.pm) from "--- init"
# with real SSE clients, and compares the transcript.

use lib 't/inc';
use CollabTest;
use CollabPresence;
use Test::Nginx::Socket 'no_plan';

no_shuffle();

CollabPresence::preprocess();

run_tests();

__DATA__

=== TEST 1: a token is issued for a user of the room, for 60 s to 24 h
--- init
CollabPresence::run(<<'_EOS_');
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/keys {}
POST /v1/accounts {"name":"Other"}
POST /v1/accounts/{acc2}/keys {}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
as {tok1}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {"ttl":60}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {"ttl":86400}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {"ttl":59}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {"ttl":86401}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {"ttl":"600"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {"ttl":60.5}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {"user":"x"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-002/tokens {}
POST /v1/accounts/{acc1}/rooms/00000000-0000-4000-8000-000000000000/users/user-001/tokens {}
as {tok2}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {}
as none
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {}
_EOS_
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/keys 201 {"id":"{key1}","name":null,"token":"{tok1}","createdAt":"<ts>"}
POST /v1/accounts 201 {"id":"{acc2}","name":"Other","createdAt":"<ts>"}
POST /v1/accounts/{acc2}/keys 201 {"id":"{key2}","name":null,"token":"{tok2}","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 201 {"token":"{ctok1}","expiresAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 201 {"token":"{ctok2}","expiresAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 201 {"token":"{ctok3}","expiresAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 400 {"error":{"code":"invalid_request","message":"ttl: must be a whole number of seconds from 60 to 86400","field":"ttl"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 400 {"error":{"code":"invalid_request","message":"ttl: must be a whole number of seconds from 60 to 86400","field":"ttl"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 400 {"error":{"code":"invalid_request","message":"ttl: must be a whole number of seconds from 60 to 86400","field":"ttl"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 400 {"error":{"code":"invalid_request","message":"ttl: must be a whole number of seconds from 60 to 86400","field":"ttl"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 400 {"error":{"code":"invalid_request","message":"user: unknown field","field":"user"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-002/tokens 404 {"error":{"code":"not_found","message":"user not found"}}
POST /v1/accounts/{acc1}/rooms/00000000-0000-4000-8000-000000000000/users/user-001/tokens 404 {"error":{"code":"not_found","message":"room not found"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 403 {"error":{"code":"forbidden","message":"this key belongs to another account"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 401 {"error":{"code":"unauthorized","message":"an Authorization: Bearer token is required"}}



=== TEST 2: a token opens its room's stream, by header or query; it is refused everywhere else
--- init
CollabPresence::run(<<'_EOS_');
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/keys {}
POST /v1/accounts {"name":"Other"}
POST /v1/accounts/{acc2}/rooms {"name":"elsewhere"}
POST /v1/accounts/{acc1}/rooms {"name":"other room"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room3}/users {"userId":"user-001"}
POST /v1/accounts/{acc1}/rooms/{room2}/users {"userId":"user-001"}
POST /v1/accounts/{acc1}/rooms/{room3}/users/user-001/tokens {}
open A {ctok1}
open B {ctok1} query
# in another room of the account, in a room of another account
open C {ctok1} in {acc1} {room2}
open C {ctok1} in {acc2} {room1}
# forged: not signed by this server; expired: signed, but past its time
forge foreign user-001
open C {ctok2}
forge expired user-001
open C {ctok3}
# an account key, the admin token, no token, a truncated token
open C {tok1}
as admin
open C cadm_not-a-client-token
open C ct_AQAAAaInzwHFAAABoigF8EUa.5R38z10eJqno0H3hMt9ehP4NLs8kX8vkQatrTlUWX4w
# a client token on an API route
as {ctok1}
GET /v1/accounts/{acc1}/rooms/{room3}
GET /v1/accounts/{acc1}/rooms/{room3}/presence
presence 1
_EOS_
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/keys 201 {"id":"{key1}","name":null,"token":"{tok1}","createdAt":"<ts>"}
POST /v1/accounts 201 {"id":"{acc2}","name":"Other","createdAt":"<ts>"}
POST /v1/accounts/{acc2}/rooms 201 {"id":"{room1}","name":"elsewhere","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room2}","name":"other room","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room3}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room3}/users 201 {"userId":"user-001","roomId":"{room3}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room2}/users 201 {"userId":"user-001","roomId":"{room2}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room3}/users/user-001/tokens 201 {"token":"{ctok1}","expiresAt":"<ts>"}
open A 200
open B 200
open C 403 {"error":{"code":"forbidden","message":"this client token is for another room"}}
open C 403 {"error":{"code":"forbidden","message":"this client token belongs to another account"}}
forged {ctok2}
open C 401 {"error":{"code":"unauthorized","message":"the client token is not valid"}}
forged {ctok3}
open C 401 {"error":{"code":"unauthorized","message":"the client token has expired"}}
open C 401 {"error":{"code":"unauthorized","message":"an account key cannot connect; use a client token of the user"}}
open C 401 {"error":{"code":"unauthorized","message":"the client token is not valid"}}
open C 401 {"error":{"code":"unauthorized","message":"the client token is not valid"}}
GET /v1/accounts/{acc1}/rooms/{room3} 401 {"error":{"code":"unauthorized","message":"a client token only opens a presence connection"}}
GET /v1/accounts/{acc1}/rooms/{room3}/presence 401 {"error":{"code":"unauthorized","message":"a client token only opens a presence connection"}}
presence: {"data":[{"userId":"user-001","since":"<ts>","connections":2,"heartbeatUntil":null}]}



=== TEST 3: deleting the user, or its room, makes its tokens useless and ends its streams
--- init
CollabPresence::run(<<'_EOS_');
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-002"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-002/tokens {}
open A {ctok1}
open B {ctok2}
read B
events 5
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/user-001
eof A
read B
open A {ctok1}
events 7
# the same userId, made again: the old token stays useless, a new one works
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
open A {ctok1}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {}
open A {ctok3}
read B
DELETE /v1/accounts/{acc1}/rooms/{room1}
eof A
eof B
open B {ctok2}
open A {ctok3}
events 12
_EOS_
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-002","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 201 {"token":"{ctok1}","expiresAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-002/tokens 201 {"token":"{ctok2}","expiresAt":"<ts>"}
open A 200
open B 200
B> retry: 1000
events: 5
  user.created {"userId":"user-001","roomId":"{room1}"}
  user.created {"userId":"user-002","roomId":"{room1}"}
  session.started {"roomId":"{room1}","sessionId":"{ses1}","userId":"user-001"}
  participant.joined {"userId":"user-001","roomId":"{room1}"}
  participant.joined {"userId":"user-002","roomId":"{room1}"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/user-001 204
A: closed by the server, after its last chunk
B> event: presence
B> data: {"participants":[{"userId":"user-001","since":"<ts>","connections":1,"heartbeatUntil":null},{"userId":"user-002","since":"<ts>","connections":1,"heartbeatUntil":null}]}
open A 401 {"error":{"code":"unauthorized","message":"the token has been revoked"}}
events: 7
  user.created {"userId":"user-001","roomId":"{room1}"}
  user.created {"userId":"user-002","roomId":"{room1}"}
  session.started {"roomId":"{room1}","sessionId":"{ses1}","userId":"user-001"}
  participant.joined {"userId":"user-001","roomId":"{room1}"}
  participant.joined {"userId":"user-002","roomId":"{room1}"}
  user.deleted {"userId":"user-001","roomId":"{room1}"}
  participant.left {"userId":"user-001","roomId":"{room1}"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
open A 401 {"error":{"code":"unauthorized","message":"the token has been revoked"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 201 {"token":"{ctok3}","expiresAt":"<ts>"}
open A 200
B> id: {evt1}
B> event: participant.left
B> data: {"event":"participant.left","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"}
DELETE /v1/accounts/{acc1}/rooms/{room1} 204
A: closed by the server, after its last chunk
B: closed by the server, after its last chunk
open B 401 {"error":{"code":"unauthorized","message":"the token has been revoked"}}
open A 401 {"error":{"code":"unauthorized","message":"the token has been revoked"}}
events: 12
  user.created {"userId":"user-001","roomId":"{room1}"}
  user.created {"userId":"user-002","roomId":"{room1}"}
  session.started {"roomId":"{room1}","sessionId":"{ses1}","userId":"user-001"}
  participant.joined {"userId":"user-001","roomId":"{room1}"}
  participant.joined {"userId":"user-002","roomId":"{room1}"}
  user.deleted {"userId":"user-001","roomId":"{room1}"}
  participant.left {"userId":"user-001","roomId":"{room1}"}
  user.created {"userId":"user-001","roomId":"{room1}"}
  participant.joined {"userId":"user-001","roomId":"{room1}"}
  participant.left {"userId":"user-002","roomId":"{room1}"}
  participant.left {"userId":"user-001","roomId":"{room1}"}
  session.closed {"roomId":"{room1}","sessionId":"{ses1}","durationMs":<ms>}


=== TEST 4: the stream's bytes: retry, the snapshot, one message per join and leave, heartbeats
--- http_config eval
CollabPresence::http_config(0, "    collab_presence_heartbeat 2s;\n")
--- init
CollabPresence::run(<<'_EOS_');
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-002"}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/user-002 {"ttl":600}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {}
open A {ctok1}
head A
bytes A 2
beat A
DELETE /v1/accounts/{acc1}/rooms/{room1}/presence/user-002
bytes A 1
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/user-002 {"ttl":600}
bytes A 1
_EOS_
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-002","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/user-002 200 {"userId":"user-002","since":"<ts>","connections":0,"heartbeatUntil":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 201 {"token":"{ctok1}","expiresAt":"<ts>"}
open A 200
A> HTTP/1.1 200 OK
A> Content-Type: text/event-stream
A> Transfer-Encoding: chunked
A> Connection: close
A> Cache-Control: no-cache
A> X-Accel-Buffering: no
A| retry: 1000
A|
A| event: presence
A| data: {"participants":[{"userId":"user-002","since":"<ts>","connections":0,"heartbeatUntil":"<ts>"},{"userId":"user-001","since":"<ts>","connections":1,"heartbeatUntil":null}]}
A|
A> : heartbeat
DELETE /v1/accounts/{acc1}/rooms/{room1}/presence/user-002 204
A| id: {evt1}
A| event: participant.left
A| data: {"event":"participant.left","data":{"userId":"user-002","roomId":"{room1}"},"timestamp":"<ts>"}
A|
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/user-002 200 {"userId":"user-002","since":"<ts>","connections":0,"heartbeatUntil":"<ts>"}
A| id: {evt2}
A| event: participant.joined
A| data: {"event":"participant.joined","data":{"userId":"user-002","roomId":"{room1}"},"timestamp":"<ts>"}
A|


=== TEST 5: a token given as ?token= is in no log: access log, error log
--- log_level: info
--- init
CollabPresence::run(<<'_EOS_');
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {}
open A {ctok1} query
read A
close A
forge expired user-001
open B {ctok2} query
POST /v1/accounts {"name":"Other"}
POST /v1/accounts/{acc2}/rooms {"name":"r"}
open C {ctok1} query
sleep 300
logs {ctok1}
logs {ctok2}
_EOS_
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 201 {"token":"{ctok1}","expiresAt":"<ts>"}
open A 200
A> retry: 1000
forged {ctok2}
open B 401 {"error":{"code":"unauthorized","message":"the client token has expired"}}
POST /v1/accounts 201 {"id":"{acc2}","name":"Other","createdAt":"<ts>"}
POST /v1/accounts/{acc2}/rooms 201 {"id":"{room2}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
open C 403 {"error":{"code":"forbidden","message":"this client token belongs to another account"}}
error.log: no token
access.log: no token
error.log: no token
access.log: no token


