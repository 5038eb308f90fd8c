# Accounts and API keys: the admin token creates them; a key is shown once,
# works on its own account only, and stops working the moment it is revoked.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the admin token creates an account and reads it back
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
GET /v1/accounts/{acc1}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
GET /v1/accounts/{acc1} 200 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}

=== TEST 2: a key is shown once, listed without its token, newest first
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/keys {"name":"server"}
POST /v1/accounts/{acc1}/keys
GET /v1/accounts/{acc1}/keys
GET /v1/accounts/{acc1}/keys?limit=1
GET /v1/accounts/{acc1}/keys?limit=1&cursor={cursor1}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/keys 201 {"id":"{key1}","name":"server","token":"{tok1}","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/keys 201 {"id":"{key2}","name":null,"token":"{tok2}","createdAt":"<ts>"}
GET /v1/accounts/{acc1}/keys 200 {"data":[{"id":"{key2}","name":null,"createdAt":"<ts>","revokedAt":null},{"id":"{key1}","name":"server","createdAt":"<ts>","revokedAt":null}],"nextCursor":null}
GET /v1/accounts/{acc1}/keys?limit=1 200 {"data":[{"id":"{key2}","name":null,"createdAt":"<ts>","revokedAt":null}],"nextCursor":"{cursor1}"}
GET /v1/accounts/{acc1}/keys?limit=1&cursor={cursor1} 200 {"data":[{"id":"{key1}","name":"server","createdAt":"<ts>","revokedAt":null}],"nextCursor":null}

=== TEST 3: a key reads its own account but manages no keys and no accounts
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/keys {}
as {tok1}
GET /v1/accounts/{acc1}
GET /v1/accounts/{acc1}/keys
POST /v1/accounts/{acc1}/keys {}
POST /v1/accounts {"name":"Other"}
as admin
GET /v1/accounts/{acc1}/keys
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/keys 201 {"id":"{key1}","name":null,"token":"{tok1}","createdAt":"<ts>"}
GET /v1/accounts/{acc1} 200 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
GET /v1/accounts/{acc1}/keys 403 {"error":{"code":"forbidden","message":"this route needs the admin token"}}
POST /v1/accounts/{acc1}/keys 403 {"error":{"code":"forbidden","message":"this route needs the admin token"}}
POST /v1/accounts 403 {"error":{"code":"forbidden","message":"this route needs the admin token"}}
GET /v1/accounts/{acc1}/keys 200 {"data":[{"id":"{key1}","name":null,"createdAt":"<ts>","revokedAt":null}],"nextCursor":null}

=== TEST 4: a key used on another account's path is forbidden
--- request
POST /t
as admin
POST /v1/accounts {"name":"A"}
POST /v1/accounts {"name":"B"}
POST /v1/accounts/{acc1}/keys {}
POST /v1/accounts/{acc2}/rooms {"name":"B's room"}
as {tok1}
GET /v1/accounts/{acc2}
GET /v1/accounts/{acc2}/rooms
GET /v1/accounts/{acc2}/rooms/{room1}
POST /v1/accounts/{acc2}/rooms {"name":"intruder"}
GET /v1/accounts/{acc1}/rooms/{room1}
as admin
GET /v1/accounts/{acc2}/rooms
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"A","createdAt":"<ts>"}
POST /v1/accounts 201 {"id":"{acc2}","name":"B","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/keys 201 {"id":"{key1}","name":null,"token":"{tok1}","createdAt":"<ts>"}
POST /v1/accounts/{acc2}/rooms 201 {"id":"{room1}","name":"B's room","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc2} 403 {"error":{"code":"forbidden","message":"this key belongs to another account"}}
GET /v1/accounts/{acc2}/rooms 403 {"error":{"code":"forbidden","message":"this key belongs to another account"}}
GET /v1/accounts/{acc2}/rooms/{room1} 403 {"error":{"code":"forbidden","message":"this key belongs to another account"}}
POST /v1/accounts/{acc2}/rooms 403 {"error":{"code":"forbidden","message":"this key belongs to another account"}}
GET /v1/accounts/{acc1}/rooms/{room1} 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc2}/rooms 200 {"data":[{"id":"{room1}","name":"B's room","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}],"nextCursor":null}

=== TEST 5: an unknown account is not found for the admin
--- request
POST /t
as admin
GET /v1/accounts/acc_0000000000000000000000
POST /v1/accounts/acc_0000000000000000000000/keys {}
GET /v1/accounts/acc_0000000000000000000000/rooms
--- response_body
GET /v1/accounts/acc_0000000000000000000000 404 {"error":{"code":"not_found","message":"account not found"}}
POST /v1/accounts/acc_0000000000000000000000/keys 404 {"error":{"code":"not_found","message":"account not found"}}
GET /v1/accounts/acc_0000000000000000000000/rooms 404 {"error":{"code":"not_found","message":"account not found"}}

=== TEST 6: a revoked key is refused at once; others keep working
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/keys {"name":"old"}
POST /v1/accounts/{acc1}/keys {"name":"new"}
as {tok1}
GET /v1/accounts/{acc1}
as admin
DELETE /v1/accounts/{acc1}/keys/{key1}
as {tok1}
GET /v1/accounts/{acc1}
as {tok2}
GET /v1/accounts/{acc1}
as admin
DELETE /v1/accounts/{acc1}/keys/{key1}
DELETE /v1/accounts/{acc1}/keys/key_0000000000000000000000
GET /v1/accounts/{acc1}/keys
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/keys 201 {"id":"{key1}","name":"old","token":"{tok1}","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/keys 201 {"id":"{key2}","name":"new","token":"{tok2}","createdAt":"<ts>"}
GET /v1/accounts/{acc1} 200 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
DELETE /v1/accounts/{acc1}/keys/{key1} 204
GET /v1/accounts/{acc1} 401 {"error":{"code":"unauthorized","message":"the token is unknown or has been revoked"}}
GET /v1/accounts/{acc1} 200 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
DELETE /v1/accounts/{acc1}/keys/{key1} 404 {"error":{"code":"not_found","message":"key not found"}}
DELETE /v1/accounts/{acc1}/keys/key_0000000000000000000000 404 {"error":{"code":"not_found","message":"key not found"}}
GET /v1/accounts/{acc1}/keys 200 {"data":[{"id":"{key2}","name":"new","createdAt":"<ts>","revokedAt":null},{"id":"{key1}","name":"old","createdAt":"<ts>","revokedAt":"<ts>"}],"nextCursor":null}

=== TEST 7: missing, malformed and unknown tokens are 401 with WWW-Authenticate
--- pipelined_requests eval
["GET /v1/accounts/acc_x",
 "GET /v1/accounts/acc_x",
 "GET /v1/accounts/acc_x",
 "GET /v1/accounts/acc_x",
 "GET /v1/accounts/acc_x"]
--- more_headers eval
["", "Authorization: Basic Zm9vOmJhcg==", "Authorization: Bearer",
 "Authorization: Bearer two words", "Authorization: Bearer ck_unknown"]
--- error_code eval
[401, 401, 401, 401, 401]
--- response_headers eval
["WWW-Authenticate: Bearer", "WWW-Authenticate: Bearer",
 "WWW-Authenticate: Bearer", "WWW-Authenticate: Bearer",
 "WWW-Authenticate: Bearer"]
--- response_body eval
[qq({"error":{"code":"unauthorized","message":"an Authorization: Bearer token is required"}}\n),
 qq({"error":{"code":"unauthorized","message":"the Authorization header must be \\"Bearer <token>\\""}}\n),
 qq({"error":{"code":"unauthorized","message":"the Authorization header must be \\"Bearer <token>\\""}}\n),
 qq({"error":{"code":"unauthorized","message":"the Authorization header must be \\"Bearer <token>\\""}}\n),
 qq({"error":{"code":"unauthorized","message":"the token is unknown or has been revoked"}}\n)]

=== TEST 8: account names are validated and nothing is created
--- request
POST /t
as admin
POST /v1/accounts {}
POST /v1/accounts {"name":""}
POST /v1/accounts {"name":12}
POST /v1/accounts {"name":null}
POST /v1/accounts {"name":"a\u0007b"}
POST /v1/accounts {"name":"Acme","plan":"pro"}
POST /v1/accounts {"name":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}
POST /v1/accounts {"name":"éééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé"}
POST /v1/accounts/{acc1}/keys {"name":7}
--- response_body
POST /v1/accounts 400 {"error":{"code":"invalid_request","message":"name: is required","field":"name"}}
POST /v1/accounts 400 {"error":{"code":"invalid_request","message":"name: must be 1 to 256 characters long","field":"name"}}
POST /v1/accounts 400 {"error":{"code":"invalid_request","message":"name: must be a string","field":"name"}}
POST /v1/accounts 400 {"error":{"code":"invalid_request","message":"name: must be a string","field":"name"}}
POST /v1/accounts 400 {"error":{"code":"invalid_request","message":"name: must not contain control characters","field":"name"}}
POST /v1/accounts 400 {"error":{"code":"invalid_request","message":"plan: unknown field","field":"plan"}}
POST /v1/accounts 400 {"error":{"code":"invalid_request","message":"name: must be 1 to 256 characters long","field":"name"}}
POST /v1/accounts 201 {"id":"{acc1}","name":"éééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/keys 400 {"error":{"code":"invalid_request","message":"name: must be a string","field":"name"}}
