# The event log: every user change records its event, in the envelope
# {"event","data","timestamp"}, listed newest first with filters.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: events filter by type and room, and page
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r1"}
POST /v1/accounts/{acc1}/rooms {"name":"r2"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"a"}
POST /v1/accounts/{acc1}/rooms/{room2}/users {"userId":"b"}
PATCH /v1/accounts/{acc1}/rooms/{room2}/users/b {"name":"Bee"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/a
GET /v1/accounts/{acc1}/events?roomId={room2}
GET /v1/accounts/{acc1}/events?type=user.deleted
GET /v1/accounts/{acc1}/events?type=user.created&roomId={room1}
GET /v1/accounts/{acc1}/events?limit=3
GET /v1/accounts/{acc1}/events?limit=3&cursor={cursor1}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r1","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room2}","name":"r2","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"a","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room2}/users 201 {"userId":"b","roomId":"{room2}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/rooms/{room2}/users/b 200 {"userId":"b","roomId":"{room2}","name":"Bee","email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/a 204
GET /v1/accounts/{acc1}/events?roomId={room2} 200 {"data":[{"id":"{evt1}","event":"user.updated","data":{"userId":"b","roomId":"{room2}","fields":["name"]},"timestamp":"<ts>"},{"id":"{evt2}","event":"user.created","data":{"userId":"b","roomId":"{room2}"},"timestamp":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/events?type=user.deleted 200 {"data":[{"id":"{evt3}","event":"user.deleted","data":{"userId":"a","roomId":"{room1}"},"timestamp":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/events?type=user.created&roomId={room1} 200 {"data":[{"id":"{evt4}","event":"user.created","data":{"userId":"a","roomId":"{room1}"},"timestamp":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/events?limit=3 200 {"data":[{"id":"{evt3}","event":"user.deleted","data":{"userId":"a","roomId":"{room1}"},"timestamp":"<ts>"},{"id":"{evt1}","event":"user.updated","data":{"userId":"b","roomId":"{room2}","fields":["name"]},"timestamp":"<ts>"},{"id":"{evt2}","event":"user.created","data":{"userId":"b","roomId":"{room2}"},"timestamp":"<ts>"}],"nextCursor":"{cursor1}"}
GET /v1/accounts/{acc1}/events?limit=3&cursor={cursor1} 200 {"data":[{"id":"{evt4}","event":"user.created","data":{"userId":"a","roomId":"{room1}"},"timestamp":"<ts>"}],"nextCursor":null}

=== TEST 2: an event is never shown to another account
--- request
POST /t
as admin
POST /v1/accounts {"name":"A"}
POST /v1/accounts {"name":"B"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"a"}
GET /v1/accounts/{acc2}/events
GET /v1/accounts/{acc2}/events?roomId={room1}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"A","createdAt":"<ts>"}
POST /v1/accounts 201 {"id":"{acc2}","name":"B","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"a","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc2}/events 200 {"data":[],"nextCursor":null}
GET /v1/accounts/{acc2}/events?roomId={room1} 200 {"data":[],"nextCursor":null}

=== TEST 3: bad list arguments are refused
--- request
POST /t
as admin
POST /v1/accounts {"name":"A"}
GET /v1/accounts/{acc1}/events?type=user.exploded
GET /v1/accounts/{acc1}/events?roomId=nope
GET /v1/accounts/{acc1}/events?limit=0
GET /v1/accounts/{acc1}/events?limit=101
GET /v1/accounts/{acc1}/events?limit=abc
GET /v1/accounts/{acc1}/events?limit=-1
GET /v1/accounts/{acc1}/events?limit=
GET /v1/accounts/{acc1}/events?cursor=1.AAAAAAAAAAAA
GET /v1/accounts/{acc1}/events?cursor=garbage
GET /v1/accounts/{acc1}/events?limit=100
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"A","createdAt":"<ts>"}
GET /v1/accounts/{acc1}/events?type=user.exploded 400 {"error":{"code":"invalid_request","message":"type: not an event name","field":"type"}}
GET /v1/accounts/{acc1}/events?roomId=nope 400 {"error":{"code":"invalid_request","message":"roomId: not a room id","field":"roomId"}}
GET /v1/accounts/{acc1}/events?limit=0 400 {"error":{"code":"invalid_request","message":"limit: must be an integer from 1 to 100","field":"limit"}}
GET /v1/accounts/{acc1}/events?limit=101 400 {"error":{"code":"invalid_request","message":"limit: must be an integer from 1 to 100","field":"limit"}}
GET /v1/accounts/{acc1}/events?limit=abc 400 {"error":{"code":"invalid_request","message":"limit: must be an integer from 1 to 100","field":"limit"}}
GET /v1/accounts/{acc1}/events?limit=-1 400 {"error":{"code":"invalid_request","message":"limit: must be an integer from 1 to 100","field":"limit"}}
GET /v1/accounts/{acc1}/events?limit= 400 {"error":{"code":"invalid_request","message":"limit: must be an integer from 1 to 100","field":"limit"}}
GET /v1/accounts/{acc1}/events?cursor=1.AAAAAAAAAAAA 400 {"error":{"code":"invalid_request","message":"cursor: not a cursor of this list","field":"cursor"}}
GET /v1/accounts/{acc1}/events?cursor=garbage 400 {"error":{"code":"invalid_request","message":"cursor: not a cursor of this list","field":"cursor"}}
GET /v1/accounts/{acc1}/events?limit=100 200 {"data":[],"nextCursor":null}

=== TEST 4: a cursor of one list is refused by another
--- request
POST /t
as admin
POST /v1/accounts {"name":"A"}
POST /v1/accounts/{acc1}/rooms {"name":"r1"}
POST /v1/accounts/{acc1}/rooms {"name":"r2"}
GET /v1/accounts/{acc1}/rooms?limit=1
GET /v1/accounts/{acc1}/events?cursor={cursor1}
GET /v1/accounts/{acc1}/rooms?cursor={cursor1}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"A","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r1","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room2}","name":"r2","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/rooms?limit=1 200 {"data":[{"id":"{room2}","name":"r2","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}],"nextCursor":"{cursor1}"}
GET /v1/accounts/{acc1}/events?cursor={cursor1} 400 {"error":{"code":"invalid_request","message":"cursor: not a cursor of this list","field":"cursor"}}
GET /v1/accounts/{acc1}/rooms?cursor={cursor1} 200 {"data":[{"id":"{room1}","name":"r1","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}],"nextCursor":null}
