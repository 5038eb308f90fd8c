# Presence in one worker: who is online, through streams (tabs) and server
# heartbeats; the transitions and their events (session.started, then
# participant.joined; participant.left, then session.closed); the grace;
# heartbeats that lapse with no request to notice them; sessions.
#
# Scenarios run from "--- init" (t/inc/CollabPresence.pm) with real SSE
# clients; the block compares their transcript.

use lib 't/inc';
use CollabTest;
use CollabPresence;
use Test::Nginx::Socket 'no_plan';

no_shuffle();

CollabPresence::preprocess();

run_tests();

__DATA__

=== TEST 1: the first tab joins (and starts the session); a second tab fires nothing; the last one to close leaves
--- init
CollabPresence::run(<<'_EOS_');
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {}
open A {ctok1}
open B {ctok1}
presence 1
GET /v1/accounts/{acc1}/rooms/{room1}/users/user-001
events 3
close A
presence 1 1
close B
presence 0
events 5
GET /v1/accounts/{acc1}/rooms/{room1}/users/user-001
GET /v1/accounts/{acc1}/rooms/{room1}/sessions
_EOS_
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 201 {"token":"{ctok1}","expiresAt":"<ts>"}
open A 200
open B 200
presence: {"data":[{"userId":"user-001","since":"<ts>","connections":2,"heartbeatUntil":null}]}
GET /v1/accounts/{acc1}/rooms/{room1}/users/user-001 200 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":true,"createdAt":"<ts>","updatedAt":"<ts>"}
events: 3
  user.created {"userId":"user-001","roomId":"{room1}"}
  session.started {"roomId":"{room1}","sessionId":"{ses1}","userId":"user-001"}
  participant.joined {"userId":"user-001","roomId":"{room1}"}
presence: {"data":[{"userId":"user-001","since":"<ts>","connections":1,"heartbeatUntil":null}]}
presence: {"data":[]}
events: 5
  user.created {"userId":"user-001","roomId":"{room1}"}
  session.started {"roomId":"{room1}","sessionId":"{ses1}","userId":"user-001"}
  participant.joined {"userId":"user-001","roomId":"{room1}"}
  participant.left {"userId":"user-001","roomId":"{room1}"}
  session.closed {"roomId":"{room1}","sessionId":"{ses1}","durationMs":<ms>}
GET /v1/accounts/{acc1}/rooms/{room1}/users/user-001 200 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/rooms/{room1}/sessions 200 {"data":[{"id":"{ses1}","startedAt":"<ts>","closedAt":"<ts>","durationMs":<ms>,"peakParticipants":1}],"nextCursor":null}


=== TEST 2: two users: the second joins the session; each sees the other come and go
--- init
CollabPresence::run(<<'_EOS_');
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-002"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-002/tokens {}
open A {ctok1}
read A
read A
open B {ctok2}
read A
read B
read B
reset B
read A
close A
events 8
GET /v1/accounts/{acc1}/rooms/{room1}/sessions
GET /v1/accounts/{acc1}/events?type=session.closed
_EOS_
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-002","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 201 {"token":"{ctok1}","expiresAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-002/tokens 201 {"token":"{ctok2}","expiresAt":"<ts>"}
open A 200
A> retry: 1000
A> event: presence
A> data: {"participants":[{"userId":"user-001","since":"<ts>","connections":1,"heartbeatUntil":null}]}
open B 200
A> id: {evt1}
A> event: participant.joined
A> data: {"event":"participant.joined","data":{"userId":"user-002","roomId":"{room1}"},"timestamp":"<ts>"}
B> retry: 1000
B> event: presence
B> data: {"participants":[{"userId":"user-001","since":"<ts>","connections":1,"heartbeatUntil":null},{"userId":"user-002","since":"<ts>","connections":1,"heartbeatUntil":null}]}
A> id: {evt2}
A> event: participant.left
A> data: {"event":"participant.left","data":{"userId":"user-002","roomId":"{room1}"},"timestamp":"<ts>"}
events: 8
  user.created {"userId":"user-001","roomId":"{room1}"}
  user.created {"userId":"user-002","roomId":"{room1}"}
  session.started {"roomId":"{room1}","sessionId":"{ses1}","userId":"user-001"}
  participant.joined {"userId":"user-001","roomId":"{room1}"}
  participant.joined {"userId":"user-002","roomId":"{room1}"}
  participant.left {"userId":"user-002","roomId":"{room1}"}
  participant.left {"userId":"user-001","roomId":"{room1}"}
  session.closed {"roomId":"{room1}","sessionId":"{ses1}","durationMs":<ms>}
GET /v1/accounts/{acc1}/rooms/{room1}/sessions 200 {"data":[{"id":"{ses1}","startedAt":"<ts>","closedAt":"<ts>","durationMs":<ms>,"peakParticipants":2}],"nextCursor":null}
GET /v1/accounts/{acc1}/events?type=session.closed 200 {"data":[{"id":"{evt3}","event":"session.closed","data":{"roomId":"{room1}","sessionId":"{ses1}","durationMs":<ms>},"timestamp":"<ts>"}],"nextCursor":null}


=== TEST 3: a server heartbeat keeps a user online until its TTL; a new one extends it; DELETE ends it
--- init
CollabPresence::run(<<'_EOS_');
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"bot"}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot {"ttl":600}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot {"ttl":3600}
GET /v1/accounts/{acc1}/rooms/{room1}/presence
GET /v1/accounts/{acc1}/rooms/{room1}/users/bot
events 4
DELETE /v1/accounts/{acc1}/rooms/{room1}/presence/bot
events 6
GET /v1/accounts/{acc1}/rooms/{room1}/users/bot
DELETE /v1/accounts/{acc1}/rooms/{room1}/presence/bot
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot {}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot {"ttl":0}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot {"ttl":3601}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot {"ttl":"60"}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot {"ttl":60,"x":1}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/nobody {"ttl":60}
DELETE /v1/accounts/{acc1}/rooms/{room1}/presence/nobody
GET /v1/accounts/{acc1}/rooms/00000000-0000-4000-8000-000000000000/presence
events 6
_EOS_
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"bot","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot 200 {"userId":"bot","since":"<ts>","connections":0,"heartbeatUntil":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot 200 {"userId":"bot","since":"<ts>","connections":0,"heartbeatUntil":"<ts>"}
GET /v1/accounts/{acc1}/rooms/{room1}/presence 200 {"data":[{"userId":"bot","since":"<ts>","connections":0,"heartbeatUntil":"<ts>"}]}
GET /v1/accounts/{acc1}/rooms/{room1}/users/bot 200 {"userId":"bot","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":true,"createdAt":"<ts>","updatedAt":"<ts>"}
events: 4
  user.created {"userId":"user-001","roomId":"{room1}"}
  user.created {"userId":"bot","roomId":"{room1}"}
  session.started {"roomId":"{room1}","sessionId":"{ses1}","userId":"bot"}
  participant.joined {"userId":"bot","roomId":"{room1}"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/presence/bot 204
events: 6
  user.created {"userId":"user-001","roomId":"{room1}"}
  user.created {"userId":"bot","roomId":"{room1}"}
  session.started {"roomId":"{room1}","sessionId":"{ses1}","userId":"bot"}
  participant.joined {"userId":"bot","roomId":"{room1}"}
  participant.left {"userId":"bot","roomId":"{room1}"}
  session.closed {"roomId":"{room1}","sessionId":"{ses1}","durationMs":<ms>}
GET /v1/accounts/{acc1}/rooms/{room1}/users/bot 200 {"userId":"bot","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/presence/bot 204
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot 400 {"error":{"code":"invalid_request","message":"ttl: is required","field":"ttl"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot 400 {"error":{"code":"invalid_request","message":"ttl: must be a whole number of seconds from 1 to 3600","field":"ttl"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot 400 {"error":{"code":"invalid_request","message":"ttl: must be a whole number of seconds from 1 to 3600","field":"ttl"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot 400 {"error":{"code":"invalid_request","message":"ttl: must be a whole number of seconds from 1 to 3600","field":"ttl"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot 400 {"error":{"code":"invalid_request","message":"x: unknown field","field":"x"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/nobody 404 {"error":{"code":"not_found","message":"user not found"}}
DELETE /v1/accounts/{acc1}/rooms/{room1}/presence/nobody 404 {"error":{"code":"not_found","message":"user not found"}}
GET /v1/accounts/{acc1}/rooms/00000000-0000-4000-8000-000000000000/presence 404 {"error":{"code":"not_found","message":"room not found"}}
events: 6
  user.created {"userId":"user-001","roomId":"{room1}"}
  user.created {"userId":"bot","roomId":"{room1}"}
  session.started {"roomId":"{room1}","sessionId":"{ses1}","userId":"bot"}
  participant.joined {"userId":"bot","roomId":"{room1}"}
  participant.left {"userId":"bot","roomId":"{room1}"}
  session.closed {"roomId":"{room1}","sessionId":"{ses1}","durationMs":<ms>}


=== TEST 4: a heartbeat lapses on time with no request at all: a stream in the room sees the user leave
--- init
CollabPresence::run(<<'_EOS_');
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"bot"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {}
open A {ctok1}
read A
read A
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot {"ttl":1}
read A
read A
presence 1
_EOS_
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"bot","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 201 {"token":"{ctok1}","expiresAt":"<ts>"}
open A 200
A> retry: 1000
A> event: presence
A> data: {"participants":[{"userId":"user-001","since":"<ts>","connections":1,"heartbeatUntil":null}]}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot 200 {"userId":"bot","since":"<ts>","connections":0,"heartbeatUntil":"<ts>"}
A> id: {evt1}
A> event: participant.joined
A> data: {"event":"participant.joined","data":{"userId":"bot","roomId":"{room1}"},"timestamp":"<ts>"}
A> id: {evt2}
A> event: participant.left
A> data: {"event":"participant.left","data":{"userId":"bot","roomId":"{room1}"},"timestamp":"<ts>"}
presence: {"data":[{"userId":"user-001","since":"<ts>","connections":1,"heartbeatUntil":null}]}


=== TEST 5: with a grace, a tab that reconnects in time fires nothing; a user that stays away leaves after it
--- http_config eval
CollabPresence::http_config('2s')
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
read B
close A
sleep 300
open A {ctok1}
reset A
open A {ctok1}
presence 2 2
print -- user-001 stays away
close A
read B
presence 1
events 6
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
B> event: presence
B> data: {"participants":[{"userId":"user-001","since":"<ts>","connections":1,"heartbeatUntil":null},{"userId":"user-002","since":"<ts>","connections":1,"heartbeatUntil":null}]}
open A 200
open A 200
presence: {"data":[{"userId":"user-001","since":"<ts>","connections":1,"heartbeatUntil":null},{"userId":"user-002","since":"<ts>","connections":1,"heartbeatUntil":null}]}
-- user-001 stays away
B> id: {evt1}
B> event: participant.left
B> data: {"event":"participant.left","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"}
presence: {"data":[{"userId":"user-002","since":"<ts>","connections":1,"heartbeatUntil":null}]}
events: 6
  user.created {"userId":"user-001","roomId":"{room1}"}
  user.created {"userId":"user-002","roomId":"{room1}"}
  session.started {"roomId":"{room1}","sessionId":"{ses1}","userId":"user-001"}
  participant.joined {"userId":"user-001","roomId":"{room1}"}
  participant.joined {"userId":"user-002","roomId":"{room1}"}
  participant.left {"userId":"user-001","roomId":"{room1}"}


=== TEST 6: sessions are kept, newest first, a page at a time
--- init
CollabPresence::run(<<'_EOS_');
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"bot"}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot {"ttl":60}
DELETE /v1/accounts/{acc1}/rooms/{room1}/presence/bot
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot {"ttl":60}
DELETE /v1/accounts/{acc1}/rooms/{room1}/presence/bot
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot {"ttl":60}
GET /v1/accounts/{acc1}/rooms/{room1}/sessions?limit=2
GET /v1/accounts/{acc1}/rooms/{room1}/sessions?limit=2&cursor={cursor1}
GET /v1/accounts/{acc1}/rooms/{room1}/sessions?limit=0
GET /v1/accounts/{acc1}/rooms/{room1}/sessions?cursor=nope
GET /v1/accounts/{acc1}/rooms/00000000-0000-4000-8000-000000000000/sessions
_EOS_
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"bot","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot 200 {"userId":"bot","since":"<ts>","connections":0,"heartbeatUntil":"<ts>"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/presence/bot 204
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot 200 {"userId":"bot","since":"<ts>","connections":0,"heartbeatUntil":"<ts>"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/presence/bot 204
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot 200 {"userId":"bot","since":"<ts>","connections":0,"heartbeatUntil":"<ts>"}
GET /v1/accounts/{acc1}/rooms/{room1}/sessions?limit=2 200 {"data":[{"id":"{ses1}","startedAt":"<ts>","closedAt":null,"durationMs":null,"peakParticipants":1},{"id":"{ses2}","startedAt":"<ts>","closedAt":"<ts>","durationMs":<ms>,"peakParticipants":1}],"nextCursor":"{cursor1}"}
GET /v1/accounts/{acc1}/rooms/{room1}/sessions?limit=2&cursor={cursor1} 200 {"data":[{"id":"{ses3}","startedAt":"<ts>","closedAt":"<ts>","durationMs":<ms>,"peakParticipants":1}],"nextCursor":null}
GET /v1/accounts/{acc1}/rooms/{room1}/sessions?limit=0 400 {"error":{"code":"invalid_request","message":"limit: must be an integer from 1 to 100","field":"limit"}}
GET /v1/accounts/{acc1}/rooms/{room1}/sessions?cursor=nope 400 {"error":{"code":"invalid_request","message":"cursor: not a cursor of this list","field":"cursor"}}
GET /v1/accounts/{acc1}/rooms/00000000-0000-4000-8000-000000000000/sessions 404 {"error":{"code":"not_found","message":"room not found"}}


=== TEST 7: deleting a user ends its heartbeat and its streams, with its leave
--- init
CollabPresence::run(<<'_EOS_');
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"bot"}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot {"ttl":600}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {}
open A {ctok1}
open B {ctok1}
events 5
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/bot
events 7
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/user-001
eof A
eof B
presence 0
events 10
_EOS_
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"bot","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot 200 {"userId":"bot","since":"<ts>","connections":0,"heartbeatUntil":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 201 {"token":"{ctok1}","expiresAt":"<ts>"}
open A 200
open B 200
events: 5
  user.created {"userId":"user-001","roomId":"{room1}"}
  user.created {"userId":"bot","roomId":"{room1}"}
  session.started {"roomId":"{room1}","sessionId":"{ses1}","userId":"bot"}
  participant.joined {"userId":"bot","roomId":"{room1}"}
  participant.joined {"userId":"user-001","roomId":"{room1}"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/bot 204
events: 7
  user.created {"userId":"user-001","roomId":"{room1}"}
  user.created {"userId":"bot","roomId":"{room1}"}
  session.started {"roomId":"{room1}","sessionId":"{ses1}","userId":"bot"}
  participant.joined {"userId":"bot","roomId":"{room1}"}
  participant.joined {"userId":"user-001","roomId":"{room1}"}
  user.deleted {"userId":"bot","roomId":"{room1}"}
  participant.left {"userId":"bot","roomId":"{room1}"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/user-001 204
A: closed by the server, after its last chunk
B: closed by the server, after its last chunk
presence: {"data":[]}
events: 10
  user.created {"userId":"user-001","roomId":"{room1}"}
  user.created {"userId":"bot","roomId":"{room1}"}
  session.started {"roomId":"{room1}","sessionId":"{ses1}","userId":"bot"}
  participant.joined {"userId":"bot","roomId":"{room1}"}
  participant.joined {"userId":"user-001","roomId":"{room1}"}
  user.deleted {"userId":"bot","roomId":"{room1}"}
  participant.left {"userId":"bot","roomId":"{room1}"}
  user.deleted {"userId":"user-001","roomId":"{room1}"}
  participant.left {"userId":"user-001","roomId":"{room1}"}
  session.closed {"roomId":"{room1}","sessionId":"{ses1}","durationMs":<ms>}
