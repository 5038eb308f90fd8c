# Key-value stores of a room: any JSON value in, the same JSON out (as
# JavaScript's JSON.stringify writes it); keys listed in byte order and
# paginated; replace, delete a key, delete a store; names and values
# validated before anything is written; rooms of other accounts unseen.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();

# "--- db_query" runs SQL on the block's database after its request, and
# "--- db_rows" is what sqlite3 must print
add_response_body_check(sub {
    my ($block) = @_;

    return if !defined $block->db_query;

    my $db = Test::Nginx::Socket::server_root() . "/logs/collab.db";
    my $out = `sqlite3 '$db' '${\ $block->db_query}'`;

    is($out, $block->db_rows, $block->name . " - database rows");
});

run_tests();

__DATA__

=== TEST 1: a value of every JSON type comes back as JSON.stringify writes it
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/string "h\u00e9llo \ud83d\ude00 \"q\" \\ \/ \u0001\n"
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/numbers [42,-0,1.50,1e21,1E-7,0.1,-3.25e-10,9007199254740993,123456789012345678901234567890]
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/true true
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/false false
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/null null
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/nested {"b":1,"a":{"z":[],"y":{}},"2":"two","1":[1,[2,[3,{"deep":null}]]]}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/empty ""
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/number   7   
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/string
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/numbers
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/true
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/false
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/null
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/nested
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/empty
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/number
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/string 201 {"key":"string","value":"héllo 😀 \"q\" \\ / \u0001\n","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/numbers 201 {"key":"numbers","value":[42,0,1.5,1e+21,1e-7,0.1,-3.25e-10,9007199254740992,1.2345678901234568e+29],"updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/true 201 {"key":"true","value":true,"updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/false 201 {"key":"false","value":false,"updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/null 201 {"key":"null","value":null,"updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/nested 201 {"key":"nested","value":{"1":[1,[2,[3,{"deep":null}]]],"2":"two","b":1,"a":{"z":[],"y":{}}},"updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/empty 201 {"key":"empty","value":"","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/number 201 {"key":"number","value":7,"updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/string 200 "héllo 😀 \"q\" \\ / \u0001\n"
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/numbers 200 [42,0,1.5,1e+21,1e-7,0.1,-3.25e-10,9007199254740992,1.2345678901234568e+29]
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/true 200 true
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/false 200 false
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/null 200 null
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/nested 200 {"1":[1,[2,[3,{"deep":null}]]],"2":"two","b":1,"a":{"z":[],"y":{}}}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/empty 200 ""
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/number 200 7

=== TEST 2: keys list in byte order of their UTF-8, a page at a time
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/b 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%F0%9F%98%80 2
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/a 3
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%C3%A9t%C3%A9 4
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/B 5
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/a%20b 6
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/10 7
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%E6%97%A5 8
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/9 9
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/other/a 0
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s?limit=4
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s?limit=4&cursor={cursor1}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s?limit=4&cursor={cursor2}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/%E6%97%A5%E6%9C%AC
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/%C3%A9t%C3%A9
--- response_body_like chomp
^POST /v1/accounts 201 [^\n]*
POST /v1/accounts/\{acc1\}/rooms 201 [^\n]*
(PUT [^ ]+ 201 [^\n]*\n){10}GET /v1/accounts/\{acc1\}/rooms/\{room1\}/stores/s\?limit=4 200 \{"data":\[\{"key":"10","value":7,"updatedAt":"<ts>"\},\{"key":"9","value":9,"updatedAt":"<ts>"\},\{"key":"B","value":5,"updatedAt":"<ts>"\},\{"key":"a","value":3,"updatedAt":"<ts>"\}\],"nextCursor":"\{cursor1\}"\}
GET [^ ]+ 200 \{"data":\[\{"key":"a b","value":6,"updatedAt":"<ts>"\},\{"key":"b","value":1,"updatedAt":"<ts>"\},\{"key":"été","value":4,"updatedAt":"<ts>"\},\{"key":"日","value":8,"updatedAt":"<ts>"\}\],"nextCursor":"\{cursor2\}"\}
GET [^ ]+ 200 \{"data":\[\{"key":"😀","value":2,"updatedAt":"<ts>"\}\],"nextCursor":null\}
GET /v1/accounts/\{acc1\}/rooms/\{room1\}/stores/%E6%97%A5%E6%9C%AC 200 \{"data":\[\],"nextCursor":null\}
GET /v1/accounts/\{acc1\}/rooms/\{room1\}/stores/s/%C3%A9t%C3%A9 200 4$

=== TEST 3: a cursor of another list, or a bad limit, is refused
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms {"name":"r2"}
GET /v1/accounts/{acc1}/rooms?limit=1
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s?cursor={cursor1}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s?cursor=YQ.xxxxxxxxxxxx
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s?limit=0
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s?limit=101
--- response_body_like chomp
^POST [^\n]*
POST [^\n]*
POST [^\n]*
GET [^\n]*
GET /v1/accounts/\{acc1\}/rooms/\{room1\}/stores/s\?cursor=\{cursor1\} 400 \{"error":\{"code":"invalid_request","message":"cursor: not a cursor of this list","field":"cursor"\}\}
GET /v1/accounts/\{acc1\}/rooms/\{room1\}/stores/s\?cursor=YQ.xxxxxxxxxxxx 400 \{"error":\{"code":"invalid_request","message":"cursor: not a cursor of this list","field":"cursor"\}\}
GET /v1/accounts/\{acc1\}/rooms/\{room1\}/stores/s\?limit=0 400 \{"error":\{"code":"invalid_request","message":"limit: must be an integer from 1 to 100","field":"limit"\}\}
GET /v1/accounts/\{acc1\}/rooms/\{room1\}/stores/s\?limit=101 400 \{"error":\{"code":"invalid_request","message":"limit: must be an integer from 1 to 100","field":"limit"\}\}$

=== TEST 4: a key is replaced (200), deleted, and a whole store is deleted
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k1 {"v":1}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k1 {"v":2}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/k1
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/s/k1
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/k1
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/s/k1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k2 2
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k3 3
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/t/k2 "kept"
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/s
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/s
GET /v1/accounts/{acc1}/rooms/{room1}/stores/t
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k1 201 {"key":"k1","value":{"v":1},"updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k1 200 {"key":"k1","value":{"v":2},"updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/k1 200 {"v":2}
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/s/k1 204
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/k1 404 {"error":{"code":"not_found","message":"key not found"}}
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/s/k1 404 {"error":{"code":"not_found","message":"key not found"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k2 201 {"key":"k2","value":2,"updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k3 201 {"key":"k3","value":3,"updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/t/k2 201 {"key":"k2","value":"kept","updatedAt":"<ts>"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/s 204
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s 200 {"data":[],"nextCursor":null}
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/s 404 {"error":{"code":"not_found","message":"store not found"}}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/t 200 {"data":[{"key":"k2","value":"kept","updatedAt":"<ts>"}],"nextCursor":null}

=== TEST 5: another account's stores are refused, and its rooms are not found
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/keys {}
POST /v1/accounts {"name":"Other"}
POST /v1/accounts/{acc2}/rooms {"name":"theirs"}
PUT /v1/accounts/{acc2}/rooms/{room1}/stores/s/k "secret"
as {tok1}
GET /v1/accounts/{acc2}/rooms/{room1}/stores/s/k
PUT /v1/accounts/{acc2}/rooms/{room1}/stores/s/k "mine"
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/k
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k "mine"
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/s/k
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/s
as admin
GET /v1/accounts/{acc2}/rooms/{room1}/stores/s/k
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/keys 201 {"id":"{key1}","name":null,"token":"{tok1}","createdAt":"<ts>"}
POST /v1/accounts 201 {"id":"{acc2}","name":"Other","createdAt":"<ts>"}
POST /v1/accounts/{acc2}/rooms 201 {"id":"{room1}","name":"theirs","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc2}/rooms/{room1}/stores/s/k 201 {"key":"k","value":"secret","updatedAt":"<ts>"}
GET /v1/accounts/{acc2}/rooms/{room1}/stores/s/k 403 {"error":{"code":"forbidden","message":"this key belongs to another account"}}
PUT /v1/accounts/{acc2}/rooms/{room1}/stores/s/k 403 {"error":{"code":"forbidden","message":"this key belongs to another account"}}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 404 {"error":{"code":"not_found","message":"room not found"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s 404 {"error":{"code":"not_found","message":"room not found"}}
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 404 {"error":{"code":"not_found","message":"room not found"}}
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/s 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc2}/rooms/{room1}/stores/s/k 200 "secret"

=== TEST 6: store and key names are checked before the body, and nothing is written
--- request eval
"POST /t
as admin
POST /v1/accounts {\"name\":\"Acme\"}
POST /v1/accounts/{acc1}/rooms {\"name\":\"r\"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/a%2Fb/k 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/a%2Fb 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%01 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s%7F/k 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%C2%85 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%FF 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/" . ("k" x 257) . " 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/" . ("s" x 257) . "/k 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/%01 not json
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/
PUT /v1/accounts/{acc1}/rooms/{room1}/stores//k 1
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s/a%2Fb
DELETE /v1/accounts/{acc1}/rooms/{room1}/stores/a%2Fb
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/" . ("k" x 256) . " 1
count GET /v1/accounts/{acc1}/rooms/{room1}/stores/s
"
--- response_body_like chomp
^POST [^\n]*
POST [^\n]*
PUT \S+ 400 \{"error":\{"code":"invalid_request","message":"store: must not contain \\"/\\"","field":"store"\}\}
PUT \S+ 400 \{"error":\{"code":"invalid_request","message":"key: must not contain \\"/\\"","field":"key"\}\}
PUT \S+ 400 \{"error":\{"code":"invalid_request","message":"key: must not contain control characters","field":"key"\}\}
PUT \S+ 400 \{"error":\{"code":"invalid_request","message":"store: must not contain control characters","field":"store"\}\}
PUT \S+ 400 \{"error":\{"code":"invalid_request","message":"key: must not contain control characters","field":"key"\}\}
PUT \S+ 400 \{"error":\{"code":"invalid_request","message":"key: must be valid UTF-8","field":"key"\}\}
PUT \S+ 400 \{"error":\{"code":"invalid_request","message":"key: must be 1 to 256 bytes long","field":"key"\}\}
PUT \S+ 400 \{"error":\{"code":"invalid_request","message":"store: must be 1 to 256 bytes long","field":"store"\}\}
PUT \S+ 400 \{"error":\{"code":"invalid_request","message":"key: must not contain control characters","field":"key"\}\}
PUT \S+ 404 \{"error":\{"code":"not_found","message":"no such route"\}\}
PUT \S+ 404 \{"error":\{"code":"not_found","message":"no such route"\}\}
GET \S+ 400 \{"error":\{"code":"invalid_request","message":"key: must not contain \\"/\\"","field":"key"\}\}
DELETE \S+ 400 \{"error":\{"code":"invalid_request","message":"store: must not contain \\"/\\"","field":"store"\}\}
PUT \S+ 201 \{"key":"k{256}","value":1,"updatedAt":"<ts>"\}
GET \S+ 200 1 items, last page$

=== TEST 7: values that are not one JSON value are refused, and nothing is written
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k {"a":
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 1 2
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k {"a":1,"a":2}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k undefined
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k NaN
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 1e400
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
raw PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 1
header Content-Type: text/plain
raw PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 1
header Content-Type: application/json
raw PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 400 {"error":{"code":"invalid_request","message":"the request body is not valid JSON: unexpected token near end of file (line 1, column 5)"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 400 {"error":{"code":"invalid_request","message":"the request body is not valid JSON: end of file expected near '2' (line 1, column 3)"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 400 {"error":{"code":"invalid_request","message":"the request body is not valid JSON: duplicate object key near '\"a\"' (line 1, column 10)"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 400 {"error":{"code":"invalid_request","message":"the request body is not valid JSON: invalid token near 'undefined' (line 1, column 9)"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 400 {"error":{"code":"invalid_request","message":"the request body is not valid JSON: invalid token near 'NaN' (line 1, column 3)"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 400 {"error":{"code":"invalid_request","message":"the request body is not valid JSON: real number overflow near '1e400' (line 1, column 5)"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 400 {"error":{"code":"invalid_request","message":"the value is nested too deeply"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 415 {"error":{"code":"unsupported_media_type","message":"the request body must be application/json"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 415 {"error":{"code":"unsupported_media_type","message":"the request body must be application/json"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 400 {"error":{"code":"invalid_request","message":"the request body must be a JSON value"}}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s 200 {"data":[],"nextCursor":null}

=== TEST 8: a value of 64 KiB of JSON is kept, one byte more is 413
--- config eval
$CollabTest::Config =~ s/client_body_buffer_size  64k/client_body_buffer_size  1m/r
--- request eval
"POST /t
as admin
POST /v1/accounts {\"name\":\"Acme\"}
POST /v1/accounts/{acc1}/rooms {\"name\":\"r\"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/big \"" . ("x" x 65535) . "\"
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/fits \"" . ("x" x 65534) . "\"
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/spaced [1,    2]
count GET /v1/accounts/{acc1}/rooms/{room1}/stores/s
"
--- response_body_like chomp
^POST [^\n]*
POST [^\n]*
PUT /v1/accounts/\{acc1\}/rooms/\{room1\}/stores/s/big 413 \{"error":\{"code":"payload_too_large","message":"the value must be at most 65536 bytes of JSON"\}\}
PUT /v1/accounts/\{acc1\}/rooms/\{room1\}/stores/s/fits 201 \{"key":"fits","value":"x{65534}","updatedAt":"<ts>"\}
PUT /v1/accounts/\{acc1\}/rooms/\{room1\}/stores/s/spaced 201 \{"key":"spaced","value":\[1,2\],"updatedAt":"<ts>"\}
GET /v1/accounts/\{acc1\}/rooms/\{room1\}/stores/s 200 2 items, last page$

=== TEST 9: collab_store_max_value sets the limit, measured on the stored JSON
--- http_config eval
$CollabTest::HttpConfig . "    collab_store_max_value 10;\n"
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k "123456789"
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k "12345678"
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k [1.000,  2.000, 3]
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 413 {"error":{"code":"payload_too_large","message":"the value must be at most 10 bytes of JSON"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 201 {"key":"k","value":"12345678","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 200 {"key":"k","value":[1,2,3],"updatedAt":"<ts>"}

=== TEST 10: deleting a room removes its stores
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"gone"}
POST /v1/accounts/{acc1}/rooms {"name":"stays"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k1 1
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/t/k2 2
PUT /v1/accounts/{acc1}/rooms/{room2}/stores/s/k1 3
DELETE /v1/accounts/{acc1}/rooms/{room1}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s
GET /v1/accounts/{acc1}/rooms/{room2}/stores/s/k1
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"gone","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room2}","name":"stays","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k1 201 {"key":"k1","value":1,"updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/t/k2 201 {"key":"k2","value":2,"updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room2}/stores/s/k1 201 {"key":"k1","value":3,"updatedAt":"<ts>"}
DELETE /v1/accounts/{acc1}/rooms/{room1} 204
GET /v1/accounts/{acc1}/rooms/{room1}/stores/s 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc1}/rooms/{room2}/stores/s/k1 200 3
--- db_query
SELECT store, key, value FROM store_items ORDER BY store, key
--- db_rows
s|k1|3

=== TEST 11: the store routes answer HEAD like GET and 405 other methods
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k "v"
HEAD /v1/accounts/{acc1}/rooms/{room1}/stores/s/k
POST /v1/accounts/{acc1}/rooms/{room1}/stores/s/k "v"
PATCH /v1/accounts/{acc1}/rooms/{room1}/stores/s {}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 201 {"key":"k","value":"v","updatedAt":"<ts>"}
HEAD /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 200
POST /v1/accounts/{acc1}/rooms/{room1}/stores/s/k 405 {"error":{"code":"method_not_allowed","message":"method POST is not allowed here; allowed: GET, HEAD, PUT, DELETE"}}
PATCH /v1/accounts/{acc1}/rooms/{room1}/stores/s 405 {"error":{"code":"method_not_allowed","message":"method PATCH is not allowed here; allowed: GET, HEAD, DELETE"}}
