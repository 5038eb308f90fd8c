# What an attacker would try: bytes that are not UTF-8 in every place a
# client can put them (paths, query arguments, bodies), data already in
# the database that is not UTF-8, "." and ".." path segments in every
# spelling, and request bodies sent chunked or empty.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();

# an account and a room made with SQL, for the blocks that send raw bytes
our $Acc = 'acc_HardHardHardHardHard00';
our $Room = '0e0e0e0e-1111-4222-8333-444455556666';
our $Base = "/v1/accounts/$Acc/rooms/$Room";
our $Admin = "Authorization: Bearer collab-test-admin-token-0001";
our $Json = "$Admin\nContent-Type: application/json";

sub sql {
    my $db = Test::Nginx::Socket::server_root() . "/logs/collab.db";

    system("sqlite3", $db, ".timeout 5000", @_) == 0
        or die "sqlite3 failed\n";
}

sub make_room {
    sql("INSERT INTO accounts (id, name, created_at)"
        . " VALUES ('$Acc', 'Hard', 0)",
        "INSERT INTO rooms (id, account_id, name, metadata, created_at,"
        . " updated_at) VALUES ('$Room', '$Acc', 'r', '{}', 0, 0)");
}

our $FFFD = "\xef\xbf\xbd";

run_tests();

__DATA__

=== TEST 1: store names and keys that are not UTF-8 are refused, whatever the malformation
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%c3%c3 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%e4%ff%ff 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/a%80b 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%c0%af 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%e0%80%af 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%ed%a0%80 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%f4%90%80%80 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%f8%88%80%80%80 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%f0%9f%98 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/%e2%82/k 1
GET /v1/accounts/{acc1}/rooms/{room1}/stores/%fe
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/s/%ff
count GET /v1/accounts/{acc1}/rooms/{room1}/stores/s
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%c3%c3 400 {"error":{"code":"invalid_request","message":"key: must be valid UTF-8","field":"key"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%e4%ff%ff 400 {"error":{"code":"invalid_request","message":"key: must be valid UTF-8","field":"key"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/a%80b 400 {"error":{"code":"invalid_request","message":"key: must be valid UTF-8","field":"key"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%c0%af 400 {"error":{"code":"invalid_request","message":"key: must be valid UTF-8","field":"key"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%e0%80%af 400 {"error":{"code":"invalid_request","message":"key: must be valid UTF-8","field":"key"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%ed%a0%80 400 {"error":{"code":"invalid_request","message":"key: must be valid UTF-8","field":"key"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%f4%90%80%80 400 {"error":{"code":"invalid_request","message":"key: must be valid UTF-8","field":"key"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%f8%88%80%80%80 400 {"error":{"code":"invalid_request","message":"key: must be valid UTF-8","field":"key"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%f0%9f%98 400 {"error":{"code":"invalid_request","message":"key: must be valid UTF-8","field":"key"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/%e2%82/k 400 {"error":{"code":"invalid_request","message":"store: must be valid UTF-8","field":"store"}}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/%fe 400 {"error":{"code":"invalid_request","message":"store: must be valid UTF-8","field":"store"}}
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/s/%ff 400 {"error":{"code":"invalid_request","message":"key: must be valid UTF-8","field":"key"}}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s 200 0 items, last page

=== TEST 2: names at every boundary of the encoding are accepted as the characters they are
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%c2%a0 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%df%bf 2
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%e0%a0%80 3
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%ed%9f%bf 4
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%ee%80%80 5
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%ef%bf%bd 6
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%f0%90%80%80 7
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%f4%8f%bf%bf 8
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/%f4%8f%bf%bf/%e0%a0%80 x
count GET /v1/accounts/{acc1}/rooms/{room1}/stores/s
count GET /v1/accounts/{acc1}/rooms/{room1}/files?prefix=%f4%8f%bf%bf/
--- response_body eval
"POST /v1/accounts 201 {\"id\":\"{acc1}\",\"name\":\"Acme\",\"createdAt\":\"<ts>\"}
POST /v1/accounts/{acc1}/rooms 201 {\"id\":\"{room1}\",\"name\":\"r\",\"metadata\":{},\"createdAt\":\"<ts>\",\"updatedAt\":\"<ts>\"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%c2%a0 201 {\"key\":\"\xc2\xa0\",\"value\":1,\"updatedAt\":\"<ts>\"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%df%bf 201 {\"key\":\"\xdf\xbf\",\"value\":2,\"updatedAt\":\"<ts>\"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%e0%a0%80 201 {\"key\":\"\xe0\xa0\x80\",\"value\":3,\"updatedAt\":\"<ts>\"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%ed%9f%bf 201 {\"key\":\"\xed\x9f\xbf\",\"value\":4,\"updatedAt\":\"<ts>\"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%ee%80%80 201 {\"key\":\"\xee\x80\x80\",\"value\":5,\"updatedAt\":\"<ts>\"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%ef%bf%bd 201 {\"key\":\"\xef\xbf\xbd\",\"value\":6,\"updatedAt\":\"<ts>\"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%f0%90%80%80 201 {\"key\":\"\xf0\x90\x80\x80\",\"value\":7,\"updatedAt\":\"<ts>\"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%f4%8f%bf%bf 201 {\"key\":\"\xf4\x8f\xbf\xbf\",\"value\":8,\"updatedAt\":\"<ts>\"}
PUT /v1/accounts/{acc1}/rooms/{room1}/files/%f4%8f%bf%bf/%e0%a0%80 201 {\"name\":\"\xf4\x8f\xbf\xbf/\xe0\xa0\x80\",\"size\":1,\"contentType\":\"application/octet-stream\",\"etag\":\"\\\"{blob1}\\\"\",\"uploadedAt\":\"<ts>\"}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s 200 8 items, last page
GET /v1/accounts/{acc1}/rooms/{room1}/files?prefix=%f4%8f%bf%bf/ 200 1 items, last page
"

=== TEST 3: file names and query arguments that are not UTF-8 are refused, and nothing is written
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/%c3%c3 x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/dir/%e4%ff%ff x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/%ed%b0%80.txt x
GET /v1/accounts/{acc1}/rooms/{room1}/files?prefix=%c3%c3
GET /v1/accounts/{acc1}/events?type=%ff
GET /v1/accounts/{acc1}/events?roomId=%e4%ff%ff
GET /v1/accounts/{acc1}/rooms?cursor=%c3%c3
GET /v1/accounts/{acc1}/rooms?limit=%f0%9f%98
disk
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/files/%c3%c3 400 {"error":{"code":"invalid_request","message":"name: must be valid UTF-8","field":"name"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/files/dir/%e4%ff%ff 400 {"error":{"code":"invalid_request","message":"name: must be valid UTF-8","field":"name"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/files/%ed%b0%80.txt 400 {"error":{"code":"invalid_request","message":"name: must be valid UTF-8","field":"name"}}
GET /v1/accounts/{acc1}/rooms/{room1}/files?prefix=%c3%c3 400 {"error":{"code":"invalid_request","message":"prefix: must be valid UTF-8","field":"prefix"}}
GET /v1/accounts/{acc1}/events?type=%ff 400 {"error":{"code":"invalid_request","message":"type: must be valid UTF-8","field":"type"}}
GET /v1/accounts/{acc1}/events?roomId=%e4%ff%ff 400 {"error":{"code":"invalid_request","message":"roomId: must be valid UTF-8","field":"roomId"}}
GET /v1/accounts/{acc1}/rooms?cursor=%c3%c3 400 {"error":{"code":"invalid_request","message":"cursor: must be valid UTF-8","field":"cursor"}}
GET /v1/accounts/{acc1}/rooms?limit=%f0%9f%98 400 {"error":{"code":"invalid_request","message":"limit: must be valid UTF-8","field":"limit"}}
disk: no room folder

=== TEST 4: a JSON body that is not UTF-8 is refused before it is parsed
--- init
main::make_room();
--- request eval
["PUT $::Base/stores/s/k\n\"\xc3\xc3\"",
 "PUT $::Base/stores/s/k\n\"\xed\xa0\x80\"",
 "PUT $::Base/stores/s/k\n[\"\xc0\xaf\"]",
 "PUT $::Base/stores/s/k\n{\"a\":\"\xf0\x9f\x98\"}",
 "POST $::Base/users\n{\"name\":\"\xe4\xff\xff\"}",
 "PUT $::Base/stores/s/k\n\"\xf0\x9f\x98\x80\""]
--- more_headers eval
[($::Json) x 6]
--- error_code eval
[400, 400, 400, 400, 400, 201]
--- response_body_like eval
[('^\{"error":\{"code":"invalid_request","message":"the request body is not valid UTF-8"\}\}\n\z') x 5,
 qq{^\\{"key":"k","value":"\xf0\x9f\x98\x80","updatedAt":"[^"]+"\\}\n\\z}]

=== TEST 5: text in the database that is not UTF-8 is answered with U+FFFD in its place
--- init
main::make_room();
main::sql("INSERT INTO store_items (room_id, store, key, value, updated_at)"
          . " VALUES ('$::Room', 's', CAST(X'61C3C362' AS TEXT),"
          . " CAST(X'5B22EDA080222C2278E4FFFF225D' AS TEXT), 0)",
          "INSERT INTO users (room_id, user_id, name, email, metadata,"
          . " created_at, updated_at) VALUES ('$::Room', 'u1',"
          . " CAST(X'F09F98' AS TEXT), NULL, '{}', 0, 0)");
--- request eval
["GET $::Base/stores/s", "GET $::Base/users/u1"]
--- more_headers eval
[$::Admin, $::Admin]
--- error_code eval
[200, 200]
--- response_body eval
["{\"data\":[{\"key\":\"a$::FFFD$::FFFD\x62\",\"value\":[\"$::FFFD$::FFFD$::FFFD\",\"x$::FFFD$::FFFD$::FFFD\"],\"updatedAt\":\"1970-01-01T00:00:00.000Z\"}],\"nextCursor\":null}\n",
 "{\"userId\":\"u1\",\"roomId\":\"$::Room\",\"name\":\"$::FFFD\",\"email\":null,\"metadata\":{},\"online\":false,\"createdAt\":\"1970-01-01T00:00:00.000Z\",\"updatedAt\":\"1970-01-01T00:00:00.000Z\"}\n"]

=== TEST 6: "." and ".." path segments are refused in every spelling
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/./k 2
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/.. 2
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/%2e/k 2
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%2E%2e 2
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/.%2e 2
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/%2e%2E
GET /v1/accounts/{acc1}/rooms/%2e%2e/users
GET /v1/accounts/{acc1}/rooms/{room1}/users/.
GET /v1/accounts/{acc1}/./rooms
GET /v1/accounts/{acc1}/rooms/{room1}/../{room1}/users
GET /v1/./accounts/{acc1}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/k
count GET /v1/accounts/{acc1}/rooms/{room1}/stores/s
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 201 {"key":"k","value":1,"updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/./k 400 {"error":{"code":"invalid_request","message":"the path must not have a \".\" or \"..\" segment"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/.. 400 {"error":{"code":"invalid_request","message":"the path must not have a \".\" or \"..\" segment"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/%2e/k 400 {"error":{"code":"invalid_request","message":"the path must not have a \".\" or \"..\" segment"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%2E%2e 400 {"error":{"code":"invalid_request","message":"the path must not have a \".\" or \"..\" segment"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/.%2e 400 {"error":{"code":"invalid_request","message":"the path must not have a \".\" or \"..\" segment"}}
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/%2e%2E 400 {"error":{"code":"invalid_request","message":"the path must not have a \".\" or \"..\" segment"}}
GET /v1/accounts/{acc1}/rooms/%2e%2e/users 400 {"error":{"code":"invalid_request","message":"the path must not have a \".\" or \"..\" segment"}}
GET /v1/accounts/{acc1}/rooms/{room1}/users/. 400 {"error":{"code":"invalid_request","message":"the path must not have a \".\" or \"..\" segment"}}
GET /v1/accounts/{acc1}/./rooms 400 {"error":{"code":"invalid_request","message":"the path must not have a \".\" or \"..\" segment"}}
GET /v1/accounts/{acc1}/rooms/{room1}/../{room1}/users 400 {"error":{"code":"invalid_request","message":"the path must not have a \".\" or \"..\" segment"}}
GET /v1/./accounts/{acc1} 400 {"error":{"code":"invalid_request","message":"the path must not have a \".\" or \"..\" segment"}}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 200 1
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s 200 1 items, last page

=== TEST 7: dots that do not make a whole segment are names like any other
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/.../k 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/.k 2
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k. 3
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%2e%2e%2e 4
count GET /v1/accounts/{acc1}/rooms/{room1}/stores/s
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/.../k 201 {"key":"k","value":1,"updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/.k 201 {"key":".k","value":2,"updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k. 201 {"key":"k.","value":3,"updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%2e%2e%2e 201 {"key":"...","value":4,"updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s 200 3 items, last page

=== TEST 8: a chunked JSON body is read whole
--- request eval
"POST /v1/accounts\n" . "5\r\n{\"nam\r\n" . "a\r\ne\":\"Acme\"}\r\n" . "0\r\n\r\n"
--- more_headers eval
"$::Json\nTransfer-Encoding: chunked"
--- error_code: 201
--- response_body_like chomp
^\{"id":"acc_\w{22}","name":"Acme","createdAt":"[^"]+"\}$

=== TEST 9: an empty chunked body on a create reads as {}
--- request eval
"POST /v1/accounts\n" . "0\r\n\r\n"
--- more_headers eval
"$::Json\nTransfer-Encoding: chunked"
--- error_code: 400
--- response_body
{"error":{"code":"invalid_request","message":"name: is required","field":"name"}}

=== TEST 10: "Content-Length: 0" on a create reads as {}, and on a store value is refused
--- init
main::make_room();
--- request eval
["POST /v1/accounts\n", "PUT $::Base/stores/s/k\n", "POST $::Base/users\n",
 "PUT $::Base/files/empty.txt\n"]
--- more_headers eval
["$::Json\nContent-Length: 0", "$::Json\nContent-Length: 0",
 "$::Json\nContent-Length: 0", "$::Admin\nContent-Length: 0"]
--- error_code eval
[400, 400, 201, 201]
--- response_body_like eval
['^\{"error":\{"code":"invalid_request","message":"name: is required","field":"name"\}\}\n\z',
 '^\{"error":\{"code":"invalid_request","message":"the request body must be a JSON value"\}\}\n\z',
 '^\{"userId":"user_\w{22}",',
 '^\{"name":"empty.txt","size":0,']

=== TEST 11: a chunked body of a store value and of a file upload
--- init
main::make_room();
--- request eval
["PUT $::Base/stores/s/k\n" . "3\r\n[1,\r\n" . "2\r\n2]\r\n" . "0\r\n\r\n",
 "PUT $::Base/files/chunked.txt\n" . "6\r\nchunks\r\n" . "0\r\n\r\n",
 "GET $::Base/files/chunked.txt",
 "PUT $::Base/stores/s/e\n" . "0\r\n\r\n"]
--- more_headers eval
["$::Json\nTransfer-Encoding: chunked",
 "$::Admin\nTransfer-Encoding: chunked", $::Admin,
 "$::Json\nTransfer-Encoding: chunked"]
--- error_code eval
[201, 201, 200, 400]
--- response_body_like eval
['^\{"key":"k","value":\[1,2\],"updatedAt":"[^"]+"\}\n\z',
 '^\{"name":"chunked.txt","size":6,',
 '^chunks\z',
 '^\{"error":\{"code":"invalid_request","message":"the request body must be a JSON value"\}\}\n\z']
