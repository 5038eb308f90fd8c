# HTTP-level rules of the API: unknown routes, methods, media types, body
# size and encoding, all answered in the error shape.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: an unknown route is 404 in the error shape
--- request
GET /v1/nothing/here
--- error_code: 404
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"code":"not_found","message":"no such route"}}

=== TEST 2: paths with empty segments, a trailing slash or no v1 are not routes
--- pipelined_requests eval
["GET /v1/accounts//rooms", "GET /v1/accounts/", "GET /v1/", "GET /v1/accounts/acc_x/rooms/x/users/u/extra/more"]
--- more_headers
Authorization: Bearer collab-test-admin-token-0001
--- error_code eval
[404, 404, 404, 404]
--- response_body eval
[qq({"error":{"code":"not_found","message":"no such route"}}\n),
 qq({"error":{"code":"not_found","message":"no such route"}}\n),
 qq({"error":{"code":"not_found","message":"no such route"}}\n),
 qq({"error":{"code":"not_found","message":"no such route"}}\n)]

=== TEST 3: a known route with the wrong method is 405 with Allow
--- request
PUT /v1/accounts
--- more_headers
Authorization: Bearer collab-test-admin-token-0001
--- error_code: 405
--- response_headers
Allow: POST
Content-Type: application/json
--- response_body
{"error":{"code":"method_not_allowed","message":"method PUT is not allowed here; allowed: POST"}}

=== TEST 4: Allow lists every method of the route
--- request
POST /v1/accounts/acc_x/rooms/00000000-0000-4000-8000-000000000000
--- error_code: 405
--- response_headers
Allow: GET, HEAD, PATCH, DELETE
--- response_body
{"error":{"code":"method_not_allowed","message":"method POST is not allowed here; allowed: GET, HEAD, PATCH, DELETE"}}

=== TEST 5: a body that is not JSON is 415
--- request
POST /v1/accounts
name=Acme
--- more_headers
Authorization: Bearer collab-test-admin-token-0001
Content-Type: application/x-www-form-urlencoded
--- error_code: 415
--- response_body
{"error":{"code":"unsupported_media_type","message":"the request body must be application/json"}}

=== TEST 6: application/json with a charset is fine, in any case
--- request
POST /v1/accounts
{"name":"Acme"}
--- more_headers
Authorization: Bearer collab-test-admin-token-0001
Content-Type: Application/JSON; charset=utf-8
--- error_code: 201
--- response_body_like
^\{"id":"acc_[0-9A-Za-z]{22}","name":"Acme","createdAt":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"\}$

=== TEST 7: application/jsonx is not JSON
--- request
POST /v1/accounts
{"name":"Acme"}
--- more_headers
Authorization: Bearer collab-test-admin-token-0001
Content-Type: application/jsonx
--- error_code: 415
--- response_body
{"error":{"code":"unsupported_media_type","message":"the request body must be application/json"}}

=== TEST 8: a body over client_max_body_size is 413 in the error shape
--- config
    location /v1/ {
        client_max_body_size 64;
        collab_api;
    }
--- request eval
"POST /v1/accounts
{\"name\":\"" . ("x" x 100) . "\"}"
--- more_headers
Authorization: Bearer collab-test-admin-token-0001
Content-Type: application/json
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"code":"payload_too_large","message":"the request body is larger than this server accepts"}}
--- error_log
client intended to send too large body

=== TEST 9: invalid UTF-8 in the body is 400
--- request eval
"POST /v1/accounts
{\"name\":\"\xff\xfe\"}"
--- more_headers
Authorization: Bearer collab-test-admin-token-0001
Content-Type: application/json
--- error_code: 400
--- response_body
{"error":{"code":"invalid_request","message":"the request body is not valid UTF-8"}}

=== TEST 10: an encoded surrogate (CESU) is not UTF-8 either
--- request eval
"POST /v1/accounts
{\"name\":\"\xed\xa0\x80\"}"
--- more_headers
Authorization: Bearer collab-test-admin-token-0001
Content-Type: application/json
--- error_code: 400
--- response_body
{"error":{"code":"invalid_request","message":"the request body is not valid UTF-8"}}

=== TEST 11: invalid JSON is 400 with where it failed
--- request
POST /v1/accounts
{"name": "Acme"
--- more_headers
Authorization: Bearer collab-test-admin-token-0001
Content-Type: application/json
--- error_code: 400
--- response_body
{"error":{"code":"invalid_request","message":"the request body is not valid JSON: '}' expected near end of file (line 1, column 15)"}}

=== TEST 12: HEAD is answered like GET, without a body
--- request
HEAD /v1/accounts/acc_x
--- error_code: 401
--- response_body

=== TEST 13: an empty body on a create means an empty object
--- request
POST /v1/accounts
--- more_headers
Authorization: Bearer collab-test-admin-token-0001
--- error_code: 400
--- response_body
{"error":{"code":"invalid_request","message":"name: is required","field":"name"}}

=== TEST 14: percent-encoded path segments are decoded one by one
--- request
GET /v1/%61ccounts/acc_0000000000000000000000
--- more_headers
Authorization: Bearer collab-test-admin-token-0001
--- error_code: 404
--- response_body
{"error":{"code":"not_found","message":"account not found"}}

=== TEST 15: an encoded / inside a segment never stands for a route's /
--- pipelined_requests eval
["DELETE /v1/accounts/acc_0000000000000000000000/keys%2F:",
 "GET /v1/accounts%2Facc_0000000000000000000000",
 "GET /v1/accounts/acc_0000000000000000000000/rooms%2F00000000-0000-4000-8000-000000000000"]
--- more_headers
Authorization: Bearer collab-test-admin-token-0001
--- error_code eval
[404, 404, 404]
--- response_body eval
[qq({"error":{"code":"not_found","message":"no such route"}}\n),
 qq({"error":{"code":"not_found","message":"no such route"}}\n),
 qq({"error":{"code":"not_found","message":"no such route"}}\n)]
