# Users of a room: create (with a chosen or generated userId), list, read,
# update (only changed fields count), delete; each change records its event.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a user is created, read, updated and deleted, with events
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/keys {}
as {tok1}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001","name":"Ann","email":"ann@example.com","metadata":{"role":"editor"}}
GET /v1/accounts/{acc1}/rooms/{room1}/users/user-001
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-001 {"name":"Anne","email":"ann@example.com"}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-001 {"email":null,"metadata":{"role":"viewer"}}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-001 {"name":"Anne"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/user-001
GET /v1/accounts/{acc1}/rooms/{room1}/users/user-001
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/user-001
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-001 {"name":"x"}
GET /v1/accounts/{acc1}/events
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/keys 201 {"id":"{key1}","name":null,"token":"{tok1}","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":"Ann","email":"ann@example.com","metadata":{"role":"editor"},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/rooms/{room1}/users/user-001 200 {"userId":"user-001","roomId":"{room1}","name":"Ann","email":"ann@example.com","metadata":{"role":"editor"},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-001 200 {"userId":"user-001","roomId":"{room1}","name":"Anne","email":"ann@example.com","metadata":{"role":"editor"},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-001 200 {"userId":"user-001","roomId":"{room1}","name":"Anne","email":null,"metadata":{"role":"viewer"},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-001 200 {"userId":"user-001","roomId":"{room1}","name":"Anne","email":null,"metadata":{"role":"viewer"},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/user-001 204
GET /v1/accounts/{acc1}/rooms/{room1}/users/user-001 404 {"error":{"code":"not_found","message":"user not found"}}
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/user-001 404 {"error":{"code":"not_found","message":"user not found"}}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-001 404 {"error":{"code":"not_found","message":"user not found"}}
GET /v1/accounts/{acc1}/events 200 {"data":[{"id":"{evt1}","event":"user.deleted","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"},{"id":"{evt2}","event":"user.updated","data":{"userId":"user-001","roomId":"{room1}","fields":["email","metadata"]},"timestamp":"<ts>"},{"id":"{evt3}","event":"user.updated","data":{"userId":"user-001","roomId":"{room1}","fields":["name"]},"timestamp":"<ts>"},{"id":"{evt4}","event":"user.created","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"}],"nextCursor":null}

=== TEST 2: a userId is generated when absent; every character class is accepted
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"a.B_c:d@e-0"}
GET /v1/accounts/{acc1}/rooms/{room1}/users/a.B_c:d@e-0
GET /v1/accounts/{acc1}/rooms/{room1}/users
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"{user1}","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"a.B_c:d@e-0","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/rooms/{room1}/users/a.B_c:d@e-0 200 {"userId":"a.B_c:d@e-0","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/rooms/{room1}/users 200 {"data":[{"userId":"a.B_c:d@e-0","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"},{"userId":"{user1}","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}],"nextCursor":null}

=== TEST 3: a duplicate userId in the same room conflicts; another room is fine
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r1"}
POST /v1/accounts/{acc1}/rooms {"name":"r2"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u","name":"again"}
POST /v1/accounts/{acc1}/rooms/{room2}/users {"userId":"u"}
GET /v1/accounts/{acc1}/events?type=user.created
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r1","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room2}","name":"r2","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 409 {"error":{"code":"conflict","message":"userId: this room already has that user","field":"userId"}}
POST /v1/accounts/{acc1}/rooms/{room2}/users 201 {"userId":"u","roomId":"{room2}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/events?type=user.created 200 {"data":[{"id":"{evt1}","event":"user.created","data":{"userId":"u","roomId":"{room2}"},"timestamp":"<ts>"},{"id":"{evt2}","event":"user.created","data":{"userId":"u","roomId":"{room1}"},"timestamp":"<ts>"}],"nextCursor":null}

=== TEST 4: bad user bodies are refused and change nothing
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":""}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"has space"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"slash/no"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"é"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":42}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":null}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"name":""}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"email":"no-at-sign"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"email":"a@b@c"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"email":false}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"metadata":7}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"online":true}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"ok"}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/ok {"userId":"renamed"}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/ok {"name":3}
GET /v1/accounts/{acc1}/rooms/{room1}/users
GET /v1/accounts/{acc1}/events
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 400 {"error":{"code":"invalid_request","message":"userId: must be a string of 1 to 128 characters of A-Z a-z 0-9 _ . : @ -","field":"userId"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users 400 {"error":{"code":"invalid_request","message":"userId: must be a string of 1 to 128 characters of A-Z a-z 0-9 _ . : @ -","field":"userId"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users 400 {"error":{"code":"invalid_request","message":"userId: must be a string of 1 to 128 characters of A-Z a-z 0-9 _ . : @ -","field":"userId"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users 400 {"error":{"code":"invalid_request","message":"userId: must be a string of 1 to 128 characters of A-Z a-z 0-9 _ . : @ -","field":"userId"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users 400 {"error":{"code":"invalid_request","message":"userId: must be a string of 1 to 128 characters of A-Z a-z 0-9 _ . : @ -","field":"userId"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users 400 {"error":{"code":"invalid_request","message":"userId: must be a string of 1 to 128 characters of A-Z a-z 0-9 _ . : @ -","field":"userId"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users 400 {"error":{"code":"invalid_request","message":"userId: must be a string of 1 to 128 characters of A-Z a-z 0-9 _ . : @ -","field":"userId"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users 400 {"error":{"code":"invalid_request","message":"name: must be 1 to 256 characters long","field":"name"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users 400 {"error":{"code":"invalid_request","message":"email: must be an email address","field":"email"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users 400 {"error":{"code":"invalid_request","message":"email: must be an email address","field":"email"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users 400 {"error":{"code":"invalid_request","message":"email: must be a string","field":"email"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users 400 {"error":{"code":"invalid_request","message":"metadata: must be a JSON object","field":"metadata"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users 400 {"error":{"code":"invalid_request","message":"online: unknown field","field":"online"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"ok","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/ok 400 {"error":{"code":"invalid_request","message":"userId: unknown field","field":"userId"}}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/ok 400 {"error":{"code":"invalid_request","message":"name: must be a string","field":"name"}}
GET /v1/accounts/{acc1}/rooms/{room1}/users 200 {"data":[{"userId":"ok","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/events 200 {"data":[{"id":"{evt1}","event":"user.created","data":{"userId":"ok","roomId":"{room1}"},"timestamp":"<ts>"}],"nextCursor":null}

=== TEST 5: users of an unknown room or of another account's room are not reachable
--- request
POST /t
as admin
POST /v1/accounts {"name":"A"}
POST /v1/accounts {"name":"B"}
POST /v1/accounts/{acc2}/rooms {"name":"B room"}
POST /v1/accounts/{acc2}/rooms/{room1}/users {"userId":"bob"}
POST /v1/accounts/{acc1}/keys {}
as {tok1}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"eve"}
GET /v1/accounts/{acc1}/rooms/{room1}/users
GET /v1/accounts/{acc1}/rooms/{room1}/users/bob
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/bob
GET /v1/accounts/{acc2}/rooms/{room1}/users/bob
POST /v1/accounts/{acc1}/rooms/00000000-0000-4000-8000-000000000000/users {}
as admin
GET /v1/accounts/{acc2}/rooms/{room1}/users
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"A","createdAt":"<ts>"}
POST /v1/accounts 201 {"id":"{acc2}","name":"B","createdAt":"<ts>"}
POST /v1/accounts/{acc2}/rooms 201 {"id":"{room1}","name":"B room","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc2}/rooms/{room1}/users 201 {"userId":"bob","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/keys 201 {"id":"{key1}","name":null,"token":"{tok1}","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc1}/rooms/{room1}/users 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc1}/rooms/{room1}/users/bob 404 {"error":{"code":"not_found","message":"room not found"}}
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/bob 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc2}/rooms/{room1}/users/bob 403 {"error":{"code":"forbidden","message":"this key belongs to another account"}}
POST /v1/accounts/{acc1}/rooms/00000000-0000-4000-8000-000000000000/users 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc2}/rooms/{room1}/users 200 {"data":[{"userId":"bob","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}],"nextCursor":null}

=== TEST 6: users list newest first and page
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u1"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u2"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u3"}
GET /v1/accounts/{acc1}/rooms/{room1}/users?limit=2
GET /v1/accounts/{acc1}/rooms/{room1}/users?limit=2&cursor={cursor1}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u1","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u2","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u3","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/rooms/{room1}/users?limit=2 200 {"data":[{"userId":"u3","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"},{"userId":"u2","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}],"nextCursor":"{cursor1}"}
GET /v1/accounts/{acc1}/rooms/{room1}/users?limit=2&cursor={cursor1} 200 {"data":[{"userId":"u1","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}],"nextCursor":null}
