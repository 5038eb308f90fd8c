# Presence over two workers: counts, transitions and messages are the
# node's, whichever worker holds a connection; a reload ends the old
# workers' streams at once and fires nothing; a worker killed with -9 has
# its connections end, with their events.
#
# Streams opened "beside" another land in the other worker (the second
# port spreads connections over both with reuseport).  Scenarios run from
# "--- init" (t/inc/CollabPresence.pm).

use lib 't/inc';
use CollabTest;
use CollabPresence;
use Test::Nginx::Socket 'no_plan';

workers(2);
master_on();
no_shuffle();

# a block's "--- grace" sets collab_presence_grace (0 without it)
CollabPresence::preprocess(http_config => "\n$CollabPresence::Port2",
                           timeout => 30);

run_tests();

__DATA__

=== TEST 1: two tabs of one user in two workers: one join, and one leave when the last closes
--- grace: 2s
--- init
CollabPresence::run(<<'_EOS_');
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"watcher"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {}
POST /v1/accounts/{acc1}/rooms/{room1}/users/watcher/tokens {}
port second
open W {ctok2}
read W
read W
open A {ctok1} beside W
read W
open B {ctok1} beside A
presence 2 3
close A
presence 2 2
close B
read W
presence 1
events 6
_EOS_
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"watcher","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 201 {"token":"{ctok1}","expiresAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/watcher/tokens 201 {"token":"{ctok2}","expiresAt":"<ts>"}
open W 200
W> retry: 1000
W> event: presence
W> data: {"participants":[{"userId":"watcher","since":"<ts>","connections":1,"heartbeatUntil":null}]}
open A 200
W> id: {evt1}
W> event: participant.joined
W> data: {"event":"participant.joined","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"}
open B 200
presence: {"data":[{"userId":"watcher","since":"<ts>","connections":1,"heartbeatUntil":null},{"userId":"user-001","since":"<ts>","connections":2,"heartbeatUntil":null}]}
presence: {"data":[{"userId":"watcher","since":"<ts>","connections":1,"heartbeatUntil":null},{"userId":"user-001","since":"<ts>","connections":1,"heartbeatUntil":null}]}
W> id: {evt2}
W> event: participant.left
W> data: {"event":"participant.left","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"}
presence: {"data":[{"userId":"watcher","since":"<ts>","connections":1,"heartbeatUntil":null}]}
events: 6
  user.created {"userId":"user-001","roomId":"{room1}"}
  user.created {"userId":"watcher","roomId":"{room1}"}
  session.started {"roomId":"{room1}","sessionId":"{ses1}","userId":"watcher"}
  participant.joined {"userId":"watcher","roomId":"{room1}"}
  participant.joined {"userId":"user-001","roomId":"{room1}"}
  participant.left {"userId":"user-001","roomId":"{room1}"}


=== TEST 2: 50 clients join and leave at random over two workers: each room's events replay in order
--- init
CollabPresence::run(<<'_EOS_');
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
churn 50 3 400
order
_EOS_
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
churn: 50 clients of 30 users in 3 rooms, 400 connects and disconnects (several workers), all gone
room {room2}: in order
room {room3}: in order
room {room4}: in order


=== TEST 3: a reload with open streams fires nothing: the old workers end them at once, the clients come back within the grace
--- grace: 3s
--- init
CollabPresence::run(<<'_EOS_');
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-002"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-002/tokens {}
port second
open A {ctok1}
open B {ctok2} beside A
events 5
reload
eof A
eof B
open A {ctok1}
open B {ctok2}
read A
read A
print -- more than the grace later
sleep 4000
presence 2 2
events 5
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
events: 5
  user.created {"userId":"user-001","roomId":"{room1}"}
  user.created {"userId":"user-002","roomId":"{room1}"}
  session.started {"roomId":"{room1}","sessionId":"{ses1}","userId":"user-001"}
  participant.joined {"userId":"user-001","roomId":"{room1}"}
  participant.joined {"userId":"user-002","roomId":"{room1}"}
A: closed by the server
B: closed by the server
open A 200
open B 200
A> retry: 1000
A> event: presence
A> data: {"participants":[{"userId":"user-001","since":"<ts>","connections":1,"heartbeatUntil":null},{"userId":"user-002","since":"<ts>","connections":0,"heartbeatUntil":null}]}
-- more than the grace later
presence: {"data":[{"userId":"user-001","since":"<ts>","connections":1,"heartbeatUntil":null},{"userId":"user-002","since":"<ts>","connections":1,"heartbeatUntil":null}]}
events: 5
  user.created {"userId":"user-001","roomId":"{room1}"}
  user.created {"userId":"user-002","roomId":"{room1}"}
  session.started {"roomId":"{room1}","sessionId":"{ses1}","userId":"user-001"}
  participant.joined {"userId":"user-001","roomId":"{room1}"}
  participant.joined {"userId":"user-002","roomId":"{room1}"}


=== TEST 4: kill -9 of a worker with open streams: its connections end, with their events, after the grace
--- grace: 1s
--- error_log
exited on signal 9
--- init
CollabPresence::run(<<'_EOS_');
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"watcher"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {}
POST /v1/accounts/{acc1}/rooms/{room1}/users/watcher/tokens {}
port second
open W {ctok2}
read W
read W
open A {ctok1} beside W
read W
kill A
eof A
read W
presence 1
events 6
_EOS_
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"watcher","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 201 {"token":"{ctok1}","expiresAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/watcher/tokens 201 {"token":"{ctok2}","expiresAt":"<ts>"}
open W 200
W> retry: 1000
W> event: presence
W> data: {"participants":[{"userId":"watcher","since":"<ts>","connections":1,"heartbeatUntil":null}]}
open A 200
W> id: {evt1}
W> event: participant.joined
W> data: {"event":"participant.joined","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"}
A: closed by the server
W> id: {evt2}
W> event: participant.left
W> data: {"event":"participant.left","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"}
presence: {"data":[{"userId":"watcher","since":"<ts>","connections":1,"heartbeatUntil":null}]}
events: 6
  user.created {"userId":"user-001","roomId":"{room1}"}
  user.created {"userId":"watcher","roomId":"{room1}"}
  session.started {"roomId":"{room1}","sessionId":"{ses1}","userId":"watcher"}
  participant.joined {"userId":"watcher","roomId":"{room1}"}
  participant.joined {"userId":"user-001","roomId":"{room1}"}
  participant.left {"userId":"user-001","roomId":"{room1}"}


