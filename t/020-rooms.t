# Rooms: create, list (newest first, paginated), read, update, delete; the
# body is validated field by field and a refused request changes nothing.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a room is created with metadata, read, updated and deleted
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/keys {}
as {tok1}
POST /v1/accounts/{acc1}/rooms {"name":"Design review","metadata":{"team":"ux","floor":3}}
GET /v1/accounts/{acc1}/rooms/{room1}
PATCH /v1/accounts/{acc1}/rooms/{room1} {"name":"Design sync"}
PATCH /v1/accounts/{acc1}/rooms/{room1} {"metadata":{"team":"core"}}
PATCH /v1/accounts/{acc1}/rooms/{room1} {}
GET /v1/accounts/{acc1}/rooms/{room1}
DELETE /v1/accounts/{acc1}/rooms/{room1}
GET /v1/accounts/{acc1}/rooms/{room1}
DELETE /v1/accounts/{acc1}/rooms/{room1}
PATCH /v1/accounts/{acc1}/rooms/{room1} {"name":"gone"}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/keys 201 {"id":"{key1}","name":null,"token":"{tok1}","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"Design review","metadata":{"team":"ux","floor":3},"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/rooms/{room1} 200 {"id":"{room1}","name":"Design review","metadata":{"team":"ux","floor":3},"createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/rooms/{room1} 200 {"id":"{room1}","name":"Design sync","metadata":{"team":"ux","floor":3},"createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/rooms/{room1} 200 {"id":"{room1}","name":"Design sync","metadata":{"team":"core"},"createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/rooms/{room1} 200 {"id":"{room1}","name":"Design sync","metadata":{"team":"core"},"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/rooms/{room1} 200 {"id":"{room1}","name":"Design sync","metadata":{"team":"core"},"createdAt":"<ts>","updatedAt":"<ts>"}
DELETE /v1/accounts/{acc1}/rooms/{room1} 204
GET /v1/accounts/{acc1}/rooms/{room1} 404 {"error":{"code":"not_found","message":"room not found"}}
DELETE /v1/accounts/{acc1}/rooms/{room1} 404 {"error":{"code":"not_found","message":"room not found"}}
PATCH /v1/accounts/{acc1}/rooms/{room1} 404 {"error":{"code":"not_found","message":"room not found"}}

=== TEST 2: metadata comes back as JavaScript's JSON.stringify writes it
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r","metadata":{"b":1.50,"a":[1e21,1E-7,0.1,-0,100],"2":"\u00e9\u2028\u0001/","1":{"x":null,"y":true}}}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{"1":{"x":null,"y":true},"2":"é \u0001/","b":1.5,"a":[1e+21,1e-7,0.1,0,100]},"createdAt":"<ts>","updatedAt":"<ts>"}

=== TEST 3: rooms list newest first and page with an opaque cursor
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"one"}
POST /v1/accounts/{acc1}/rooms {"name":"two"}
POST /v1/accounts/{acc1}/rooms {"name":"three"}
GET /v1/accounts/{acc1}/rooms?limit=2
GET /v1/accounts/{acc1}/rooms?limit=2&cursor={cursor1}
GET /v1/accounts/{acc1}/rooms
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"one","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room2}","name":"two","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room3}","name":"three","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/rooms?limit=2 200 {"data":[{"id":"{room3}","name":"three","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"},{"id":"{room2}","name":"two","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}],"nextCursor":"{cursor1}"}
GET /v1/accounts/{acc1}/rooms?limit=2&cursor={cursor1} 200 {"data":[{"id":"{room1}","name":"one","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/rooms 200 {"data":[{"id":"{room3}","name":"three","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"},{"id":"{room2}","name":"two","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"},{"id":"{room1}","name":"one","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}],"nextCursor":null}

=== TEST 4: bad room bodies are refused and change nothing
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"keep","metadata":{"v":1}}
POST /v1/accounts/{acc1}/rooms {}
POST /v1/accounts/{acc1}/rooms {"name":""}
POST /v1/accounts/{acc1}/rooms {"name":["x"]}
POST /v1/accounts/{acc1}/rooms {"name":"x","metadata":[]}
POST /v1/accounts/{acc1}/rooms {"name":"x","metadata":"{}"}
POST /v1/accounts/{acc1}/rooms {"name":"x","owner":"me"}
POST /v1/accounts/{acc1}/rooms ["name"]
POST /v1/accounts/{acc1}/rooms "room"
POST /v1/accounts/{acc1}/rooms {"name":"x",}
POST /v1/accounts/{acc1}/rooms {"name":"x","name":"y"}
PATCH /v1/accounts/{acc1}/rooms/{room1} {"name":null}
PATCH /v1/accounts/{acc1}/rooms/{room1} {"metadata":null}
PATCH /v1/accounts/{acc1}/rooms/{room1} {"id":"other"}
GET /v1/accounts/{acc1}/rooms
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"keep","metadata":{"v":1},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 400 {"error":{"code":"invalid_request","message":"name: is required","field":"name"}}
POST /v1/accounts/{acc1}/rooms 400 {"error":{"code":"invalid_request","message":"name: must be 1 to 256 characters long","field":"name"}}
POST /v1/accounts/{acc1}/rooms 400 {"error":{"code":"invalid_request","message":"name: must be a string","field":"name"}}
POST /v1/accounts/{acc1}/rooms 400 {"error":{"code":"invalid_request","message":"metadata: must be a JSON object","field":"metadata"}}
POST /v1/accounts/{acc1}/rooms 400 {"error":{"code":"invalid_request","message":"metadata: must be a JSON object","field":"metadata"}}
POST /v1/accounts/{acc1}/rooms 400 {"error":{"code":"invalid_request","message":"owner: unknown field","field":"owner"}}
POST /v1/accounts/{acc1}/rooms 400 {"error":{"code":"invalid_request","message":"the request body must be a JSON object"}}
POST /v1/accounts/{acc1}/rooms 400 {"error":{"code":"invalid_request","message":"the request body must be a JSON object"}}
POST /v1/accounts/{acc1}/rooms 400 {"error":{"code":"invalid_request","message":"the request body is not valid JSON: string or '}' expected near '}' (line 1, column 13)"}}
POST /v1/accounts/{acc1}/rooms 400 {"error":{"code":"invalid_request","message":"the request body is not valid JSON: duplicate object key near '\"name\"' (line 1, column 18)"}}
PATCH /v1/accounts/{acc1}/rooms/{room1} 400 {"error":{"code":"invalid_request","message":"name: must be a string","field":"name"}}
PATCH /v1/accounts/{acc1}/rooms/{room1} 400 {"error":{"code":"invalid_request","message":"metadata: must be a JSON object","field":"metadata"}}
PATCH /v1/accounts/{acc1}/rooms/{room1} 400 {"error":{"code":"invalid_request","message":"id: unknown field","field":"id"}}
GET /v1/accounts/{acc1}/rooms 200 {"data":[{"id":"{room1}","name":"keep","metadata":{"v":1},"createdAt":"<ts>","updatedAt":"<ts>"}],"nextCursor":null}

=== TEST 5: metadata over 8 KiB is refused
--- request eval
"POST /t
as admin
POST /v1/accounts {\"name\":\"Acme\"}
POST /v1/accounts/{acc1}/rooms {\"name\":\"big\",\"metadata\":{\"k\":\"" . ("x" x 8185) . "\"}}
POST /v1/accounts/{acc1}/rooms {\"name\":\"fits\",\"metadata\":{\"k\":\"" . ("x" x 8184) . "\"}}
GET /v1/accounts/{acc1}/rooms?limit=5
"
--- response_body_like chomp
^POST /v1/accounts 201 .*
POST /v1/accounts/\{acc1\}/rooms 400 \{"error":\{"code":"invalid_request","message":"metadata: must be at most 8192 bytes of JSON","field":"metadata"\}\}
POST /v1/accounts/\{acc1\}/rooms 201 \{"id":"\{room1\}","name":"fits",.*
GET /v1/accounts/\{acc1\}/rooms\?limit=5 200 \{"data":\[\{"id":"\{room1\}","name":"fits",[^\n]*\}\],"nextCursor":null\}$

=== TEST 6: unknown rooms and malformed room ids are not found
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
GET /v1/accounts/{acc1}/rooms/3f1b1f0e-1111-4222-8333-444455556666
GET /v1/accounts/{acc1}/rooms/not-a-uuid
PATCH /v1/accounts/{acc1}/rooms/3f1b1f0e-1111-4222-8333-444455556666 {"name":"x"}
DELETE /v1/accounts/{acc1}/rooms/3f1b1f0e-1111-4222-8333-444455556666
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
GET /v1/accounts/{acc1}/rooms/3f1b1f0e-1111-4222-8333-444455556666 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc1}/rooms/not-a-uuid 404 {"error":{"code":"not_found","message":"room not found"}}
PATCH /v1/accounts/{acc1}/rooms/3f1b1f0e-1111-4222-8333-444455556666 404 {"error":{"code":"not_found","message":"room not found"}}
DELETE /v1/accounts/{acc1}/rooms/3f1b1f0e-1111-4222-8333-444455556666 404 {"error":{"code":"not_found","message":"room not found"}}

=== TEST 7: deleting a room removes its users
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u1"}
DELETE /v1/accounts/{acc1}/rooms/{room1}
GET /v1/accounts/{acc1}/rooms/{room1}/users
GET /v1/accounts/{acc1}/rooms/{room1}/users/u1
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"u1","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
DELETE /v1/accounts/{acc1}/rooms/{room1} 204
GET /v1/accounts/{acc1}/rooms/{room1}/users 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc1}/rooms/{room1}/users/u1 404 {"error":{"code":"not_found","message":"room not found"}}

=== TEST 8: every route under a room answers 404 "room not found" for a deleted room or another account's, before its body is read
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts {"name":"Bolt"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc2}/rooms {"name":"theirs"}
DELETE /v1/accounts/{acc1}/rooms/{room1}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u2"}
GET /v1/accounts/{acc1}/rooms/{room1}/users
GET /v1/accounts/{acc1}/rooms/{room1}/users/u1
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/u1 {"name":"x"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/u1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 1
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/k
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/s/k
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/s
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/a.txt x
GET /v1/accounts/{acc1}/rooms/{room1}/files
GET /v1/accounts/{acc1}/rooms/{room1}/files/a.txt
DELETE /v1/accounts/{acc1}/rooms/{room1}/files/a.txt
POST /v1/accounts/{acc1}/rooms/{room2}/users {"userId":"u2"}
GET /v1/accounts/{acc1}/rooms/{room2}/users
GET /v1/accounts/{acc1}/rooms/{room2}/users/u1
PATCH /v1/accounts/{acc1}/rooms/{room2}/users/u1 {"name":"x"}
DELETE /v1/accounts/{acc1}/rooms/{room2}/users/u1
PUT /v1/accounts/{acc1}/rooms/{room2}/stores/s/k 1
GET /v1/accounts/{acc1}/rooms/{room2}/stores/s/k
GET /v1/accounts/{acc1}/rooms/{room2}/stores/s
DELETE /v1/accounts/{acc1}/rooms/{room2}/stores/s/k
DELETE /v1/accounts/{acc1}/rooms/{room2}/stores/s
raw PUT /v1/accounts/{acc1}/rooms/{room2}/files/a.txt x
GET /v1/accounts/{acc1}/rooms/{room2}/files
GET /v1/accounts/{acc1}/rooms/{room2}/files/a.txt
DELETE /v1/accounts/{acc1}/rooms/{room2}/files/a.txt
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k {not json
POST /v1/accounts/{acc1}/rooms/{room2}/users {"unknown":1}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts 201 {"id":"{acc2}","name":"Bolt","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc2}/rooms 201 {"id":"{room2}","name":"theirs","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
DELETE /v1/accounts/{acc1}/rooms/{room1} 204
POST /v1/accounts/{acc1}/rooms/{room1}/users 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc1}/rooms/{room1}/users 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc1}/rooms/{room1}/users/u1 404 {"error":{"code":"not_found","message":"room not found"}}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/u1 404 {"error":{"code":"not_found","message":"room not found"}}
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/u1 404 {"error":{"code":"not_found","message":"room not found"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s 404 {"error":{"code":"not_found","message":"room not found"}}
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 404 {"error":{"code":"not_found","message":"room not found"}}
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/s 404 {"error":{"code":"not_found","message":"room not found"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/files/a.txt 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc1}/rooms/{room1}/files 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc1}/rooms/{room1}/files/a.txt 404 {"error":{"code":"not_found","message":"room not found"}}
DELETE /v1/accounts/{acc1}/rooms/{room1}/files/a.txt 404 {"error":{"code":"not_found","message":"room not found"}}
POST /v1/accounts/{acc1}/rooms/{room2}/users 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc1}/rooms/{room2}/users 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc1}/rooms/{room2}/users/u1 404 {"error":{"code":"not_found","message":"room not found"}}
PATCH /v1/accounts/{acc1}/rooms/{room2}/users/u1 404 {"error":{"code":"not_found","message":"room not found"}}
DELETE /v1/accounts/{acc1}/rooms/{room2}/users/u1 404 {"error":{"code":"not_found","message":"room not found"}}
PUT /v1/accounts/{acc1}/rooms/{room2}/stores/s/k 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc1}/rooms/{room2}/stores/s/k 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc1}/rooms/{room2}/stores/s 404 {"error":{"code":"not_found","message":"room not found"}}
DELETE /v1/accounts/{acc1}/rooms/{room2}/stores/s/k 404 {"error":{"code":"not_found","message":"room not found"}}
DELETE /v1/accounts/{acc1}/rooms/{room2}/stores/s 404 {"error":{"code":"not_found","message":"room not found"}}
PUT /v1/accounts/{acc1}/rooms/{room2}/files/a.txt 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc1}/rooms/{room2}/files 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc1}/rooms/{room2}/files/a.txt 404 {"error":{"code":"not_found","message":"room not found"}}
DELETE /v1/accounts/{acc1}/rooms/{room2}/files/a.txt 404 {"error":{"code":"not_found","message":"room not found"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 404 {"error":{"code":"not_found","message":"room not found"}}
POST /v1/accounts/{acc1}/rooms/{room2}/users 404 {"error":{"code":"not_found","message":"room not found"}}
