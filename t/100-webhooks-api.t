# Webhook endpoints: create (the secret shown once), list, read, update,
# delete, rotate the secret; every bad input refused with nothing changed.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the product document's webhook is created; its secret is shown once
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/keys {}
as {tok1}
POST /v1/accounts/{acc1}/webhooks {"url":"https://api.example.com/collab-webhook","events":["participant.joined","participant.left","user.created"]}
GET /v1/accounts/{acc1}/webhooks/{wh1}
GET /v1/accounts/{acc1}/webhooks
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/keys 201 {"id":"{key1}","name":null,"token":"{tok1}","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"https://api.example.com/collab-webhook","events":["participant.joined","participant.left","user.created"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/webhooks/{wh1} 200 {"id":"{wh1}","url":"https://api.example.com/collab-webhook","events":["participant.joined","participant.left","user.created"],"roomId":null,"description":null,"enabled":true,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/webhooks 200 {"data":[{"id":"{wh1}","url":"https://api.example.com/collab-webhook","events":["participant.joined","participant.left","user.created"],"roomId":null,"description":null,"enabled":true,"createdAt":"<ts>","updatedAt":"<ts>"}],"nextCursor":null}

=== TEST 2: scoped to a room, unscoped with null, disabled and enabled again
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/webhooks {"url":"https://api.example.com/room-webhook","events":["participant.joined"],"roomId":"{room1}","description":"room only"}
PATCH /v1/accounts/{acc1}/webhooks/{wh1} {"roomId":null}
PATCH /v1/accounts/{acc1}/webhooks/{wh1} {"enabled":false}
PATCH /v1/accounts/{acc1}/webhooks/{wh1} {"enabled":true,"events":["*"],"url":"https://hooks.example.com/x?y=1"}
PATCH /v1/accounts/{acc1}/webhooks/{wh1} {"description":null}
DELETE /v1/accounts/{acc1}/webhooks/{wh1}
GET /v1/accounts/{acc1}/webhooks/{wh1}
DELETE /v1/accounts/{acc1}/webhooks/{wh1}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"https://api.example.com/room-webhook","events":["participant.joined"],"roomId":"{room1}","description":"room only","enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/webhooks/{wh1} 200 {"id":"{wh1}","url":"https://api.example.com/room-webhook","events":["participant.joined"],"roomId":null,"description":"room only","enabled":true,"createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/webhooks/{wh1} 200 {"id":"{wh1}","url":"https://api.example.com/room-webhook","events":["participant.joined"],"roomId":null,"description":"room only","enabled":false,"createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/webhooks/{wh1} 200 {"id":"{wh1}","url":"https://hooks.example.com/x?y=1","events":["*"],"roomId":null,"description":"room only","enabled":true,"createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/webhooks/{wh1} 200 {"id":"{wh1}","url":"https://hooks.example.com/x?y=1","events":["*"],"roomId":null,"description":null,"enabled":true,"createdAt":"<ts>","updatedAt":"<ts>"}
DELETE /v1/accounts/{acc1}/webhooks/{wh1} 204
GET /v1/accounts/{acc1}/webhooks/{wh1} 404 {"error":{"code":"not_found","message":"webhook not found"}}
DELETE /v1/accounts/{acc1}/webhooks/{wh1} 404 {"error":{"code":"not_found","message":"webhook not found"}}

=== TEST 3: rotating gives a new secret, shown once, the old one kept 24 h
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/webhooks {"url":"https://api.example.com/h","events":["*"]}
POST /v1/accounts/{acc1}/webhooks/{wh1}/rotate-secret
GET /v1/accounts/{acc1}/webhooks/{wh1}
POST /v1/accounts/{acc1}/webhooks/wh_0000000000000000000000/rotate-secret
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"https://api.example.com/h","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks/{wh1}/rotate-secret 200 {"secret":"{secret2}","previousSecretExpiresAt":"<ts>"}
GET /v1/accounts/{acc1}/webhooks/{wh1} 200 {"id":"{wh1}","url":"https://api.example.com/h","events":["*"],"roomId":null,"description":null,"enabled":true,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks/wh_0000000000000000000000/rotate-secret 404 {"error":{"code":"not_found","message":"webhook not found"}}

=== TEST 4: bad URLs are refused and nothing is created
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/webhooks {"url":"/relative","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"ftp://example.com/x","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"https://user:pass@example.com/x","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"https://example.com/x#frag","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"https://exa mple.com/","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"https://example.com:99999/","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":42,"events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"events":["*"]}
GET /v1/accounts/{acc1}/webhooks
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: must be an absolute http or https URL","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: must be an absolute http or https URL","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: must not contain credentials","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: must not contain a fragment","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: must not contain spaces","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: must have a port between 1 and 65535","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: must be a string","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: is required","field":"url"}}
GET /v1/accounts/{acc1}/webhooks 200 {"data":[],"nextCursor":null}

=== TEST 5: a URL over 2048 bytes is refused, one of 2048 is fine
--- request eval
"POST /t
as admin
POST /v1/accounts {\"name\":\"Acme\"}
POST /v1/accounts/{acc1}/webhooks {\"url\":\"https://example.com/" . ("a" x 2029) . "\",\"events\":[\"*\"]}
POST /v1/accounts/{acc1}/webhooks {\"url\":\"https://example.com/" . ("a" x 2028) . "\",\"events\":[\"*\"]}
count GET /v1/accounts/{acc1}/webhooks
"
--- response_body_like chomp
^POST /v1/accounts 201 .*
POST /v1/accounts/\{acc1\}/webhooks 400 \{"error":\{"code":"invalid_request","message":"url: must be at most 2048 bytes","field":"url"\}\}
POST /v1/accounts/\{acc1\}/webhooks 201 .*
GET /v1/accounts/\{acc1\}/webhooks 200 1 items, last page$

=== TEST 6: private, loopback and other internal addresses are refused by rule
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/webhooks {"url":"http://127.0.0.1/x","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://10.1.2.3/x","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://172.16.0.1/x","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://192.168.1.1/x","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://100.64.0.1/x","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://169.254.169.254/latest","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://[::1]/x","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://[fe80::1]/x","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://[fd00::1]/x","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://224.0.0.1/x","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://0.0.0.0/x","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://[::ffff:127.0.0.1]/x","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://[::ffff:10.0.0.1]/x","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://localhost/x","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://2130706433/x","events":["*"]}
POST /v1/accounts/{acc1}/webhooks {"url":"http://8.8.8.8/x","events":["*"]}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: the address is loopback; webhooks may not reach it","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: the address is private; webhooks may not reach it","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: the address is private; webhooks may not reach it","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: the address is private; webhooks may not reach it","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: the address is shared address space; webhooks may not reach it","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: the address is link-local; webhooks may not reach it","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: the address is loopback; webhooks may not reach it","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: the address is link-local; webhooks may not reach it","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: the address is unique local; webhooks may not reach it","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: the address is multicast; webhooks may not reach it","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: the address is unspecified; webhooks may not reach it","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: the address is loopback; webhooks may not reach it","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: the address is private; webhooks may not reach it","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: the address is loopback; webhooks may not reach it","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"url: must not be a numeric host in a non-standard form","field":"url"}}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"http://8.8.8.8/x","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}

=== TEST 7: bad events, rooms and flags are refused and change nothing
--- request
POST /t
as admin
POST /v1/accounts {"name":"A"}
POST /v1/accounts {"name":"B"}
POST /v1/accounts/{acc2}/rooms {"name":"B's"}
POST /v1/accounts/{acc1}/webhooks {"url":"https://example.com/","events":[]}
POST /v1/accounts/{acc1}/webhooks {"url":"https://example.com/","events":"*"}
POST /v1/accounts/{acc1}/webhooks {"url":"https://example.com/","events":["user.created","foo"]}
POST /v1/accounts/{acc1}/webhooks {"url":"https://example.com/","events":["user.created","user.created"]}
POST /v1/accounts/{acc1}/webhooks {"url":"https://example.com/","events":[7]}
POST /v1/accounts/{acc1}/webhooks {"url":"https://example.com/","events":["webhook.test"]}
POST /v1/accounts/{acc1}/webhooks {"url":"https://example.com/","events":[""]}
POST /v1/accounts/{acc1}/webhooks {"url":"https://example.com/","events":["*"],"roomId":"{room1}"}
POST /v1/accounts/{acc1}/webhooks {"url":"https://example.com/","events":["*"],"roomId":"00000000-0000-4000-8000-000000000000"}
POST /v1/accounts/{acc1}/webhooks {"url":"https://example.com/","events":["*"],"roomId":5}
POST /v1/accounts/{acc1}/webhooks {"url":"https://example.com/","events":["*"],"enabled":"yes"}
POST /v1/accounts/{acc1}/webhooks {"url":"https://example.com/","events":["*"],"secret":"mine"}
POST /v1/accounts/{acc1}/webhooks {"url":"https://example.com/","events":["*"]}
PATCH /v1/accounts/{acc1}/webhooks/{wh1} {"enabled":1}
PATCH /v1/accounts/{acc1}/webhooks/{wh1} {"events":[]}
PATCH /v1/accounts/{acc1}/webhooks/{wh1} {"url":"http://10.0.0.1/"}
GET /v1/accounts/{acc1}/webhooks
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"A","createdAt":"<ts>"}
POST /v1/accounts 201 {"id":"{acc2}","name":"B","createdAt":"<ts>"}
POST /v1/accounts/{acc2}/rooms 201 {"id":"{room1}","name":"B's","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"events: must be a non-empty array of event names","field":"events"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"events: must be a non-empty array of event names","field":"events"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"events[1]: unknown event \"foo\"","field":"events"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"events[1]: \"user.created\" is listed twice","field":"events"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"events[0]: must be a string","field":"events"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"events[0]: unknown event \"webhook.test\"","field":"events"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"events[0]: unknown event","field":"events"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"roomId: no such room in this account","field":"roomId"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"roomId: no such room in this account","field":"roomId"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"roomId: must be a string or null","field":"roomId"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"enabled: must be true or false","field":"enabled"}}
POST /v1/accounts/{acc1}/webhooks 400 {"error":{"code":"invalid_request","message":"secret: unknown field","field":"secret"}}
POST /v1/accounts/{acc1}/webhooks 201 {"id":"{wh1}","url":"https://example.com/","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/webhooks/{wh1} 400 {"error":{"code":"invalid_request","message":"enabled: must be true or false","field":"enabled"}}
PATCH /v1/accounts/{acc1}/webhooks/{wh1} 400 {"error":{"code":"invalid_request","message":"events: must be a non-empty array of event names","field":"events"}}
PATCH /v1/accounts/{acc1}/webhooks/{wh1} 400 {"error":{"code":"invalid_request","message":"url: the address is private; webhooks may not reach it","field":"url"}}
GET /v1/accounts/{acc1}/webhooks 200 {"data":[{"id":"{wh1}","url":"https://example.com/","events":["*"],"roomId":null,"description":null,"enabled":true,"createdAt":"<ts>","updatedAt":"<ts>"}],"nextCursor":null}

=== TEST 8: unknown webhooks are 404; another account's webhook is 403 on its path, 404 on ours
--- request
POST /t
as admin
POST /v1/accounts {"name":"A"}
POST /v1/accounts {"name":"B"}
POST /v1/accounts/{acc2}/webhooks {"url":"https://example.com/","events":["*"]}
POST /v1/accounts/{acc1}/keys {}
as {tok1}
GET /v1/accounts/{acc1}/webhooks/wh_0000000000000000000000
PATCH /v1/accounts/{acc1}/webhooks/wh_0000000000000000000000 {"enabled":false}
DELETE /v1/accounts/{acc1}/webhooks/wh_0000000000000000000000
GET /v1/accounts/{acc1}/webhooks/{wh1}
PATCH /v1/accounts/{acc1}/webhooks/{wh1} {"enabled":false}
DELETE /v1/accounts/{acc1}/webhooks/{wh1}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries
GET /v1/accounts/{acc2}/webhooks/{wh1}
as admin
GET /v1/accounts/{acc2}/webhooks/{wh1}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"A","createdAt":"<ts>"}
POST /v1/accounts 201 {"id":"{acc2}","name":"B","createdAt":"<ts>"}
POST /v1/accounts/{acc2}/webhooks 201 {"id":"{wh1}","url":"https://example.com/","events":["*"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/keys 201 {"id":"{key1}","name":null,"token":"{tok1}","createdAt":"<ts>"}
GET /v1/accounts/{acc1}/webhooks/wh_0000000000000000000000 404 {"error":{"code":"not_found","message":"webhook not found"}}
PATCH /v1/accounts/{acc1}/webhooks/wh_0000000000000000000000 404 {"error":{"code":"not_found","message":"webhook not found"}}
DELETE /v1/accounts/{acc1}/webhooks/wh_0000000000000000000000 404 {"error":{"code":"not_found","message":"webhook not found"}}
GET /v1/accounts/{acc1}/webhooks/{wh1} 404 {"error":{"code":"not_found","message":"webhook not found"}}
PATCH /v1/accounts/{acc1}/webhooks/{wh1} 404 {"error":{"code":"not_found","message":"webhook not found"}}
DELETE /v1/accounts/{acc1}/webhooks/{wh1} 404 {"error":{"code":"not_found","message":"webhook not found"}}
GET /v1/accounts/{acc1}/webhooks/{wh1}/deliveries 404 {"error":{"code":"not_found","message":"webhook not found"}}
GET /v1/accounts/{acc2}/webhooks/{wh1} 403 {"error":{"code":"forbidden","message":"this key belongs to another account"}}
GET /v1/accounts/{acc2}/webhooks/{wh1} 200 {"id":"{wh1}","url":"https://example.com/","events":["*"],"roomId":null,"description":null,"enabled":true,"createdAt":"<ts>","updatedAt":"<ts>"}
