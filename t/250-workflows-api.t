# Workflows through the API: create (compiled at once by a runner; a
# syntax error is a 400 with its line and column), read, list, change,
# delete, run a test event, and the execution log.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config", $CollabTest::HttpConfig
                                         . "    collab_workflow_timeout 2s;\n");
    }

    $block->set_value("timeout", 30) if !defined $block->timeout;
});

run_tests();

__DATA__

=== TEST 1: a workflow is created compiled, read with its code, listed without it
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/workflows {"name":"Hello","events":["user.created"],"code":"export default async function(event) {\n  return { hello: event.data.userId };\n}"}
GET /v1/accounts/{acc1}/workflows/{wf1}
GET /v1/accounts/{acc1}/workflows
GET /v1/accounts/{acc1}/workflows/wf_NoSuchWorkflowNoSuchWork
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"Hello","events":["user.created"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async function(event) {\n  return { hello: event.data.userId };\n}","createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/workflows/{wf1} 200 {"id":"{wf1}","name":"Hello","events":["user.created"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async function(event) {\n  return { hello: event.data.userId };\n}","createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/workflows 200 {"data":[{"id":"{wf1}","name":"Hello","events":["user.created"],"roomId":null,"language":"javascript","enabled":true,"createdAt":"<ts>","updatedAt":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/workflows/wf_NoSuchWorkflowNoSuchWork 404 {"error":{"code":"not_found","message":"workflow not found"}}

=== TEST 2: what a create refuses, field by field
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/workflows {}
POST /v1/accounts/{acc1}/workflows {"name":"x"}
POST /v1/accounts/{acc1}/workflows {"name":"x","events":[]}
POST /v1/accounts/{acc1}/workflows {"name":"x","events":["user.made"],"code":"x"}
POST /v1/accounts/{acc1}/workflows {"name":"x","events":["*","*"],"code":"x"}
POST /v1/accounts/{acc1}/workflows {"name":"x","events":[""],"code":"x"}
POST /v1/accounts/{acc1}/workflows {"name":"x","events":["*"]}
POST /v1/accounts/{acc1}/workflows {"name":"x","events":["*"],"code":""}
POST /v1/accounts/{acc1}/workflows {"name":"x","events":["*"],"code":7}
POST /v1/accounts/{acc1}/workflows {"name":"x","events":["*"],"code":"export default 1","language":"python"}
POST /v1/accounts/{acc1}/workflows {"name":"x","events":["*"],"code":"export default 1","roomId":"00000000-0000-4000-8000-000000000000"}
POST /v1/accounts/{acc1}/workflows {"name":"x","events":["*"],"code":"export default 1","enabled":"yes"}
POST /v1/accounts/{acc1}/workflows {"name":"x","events":["*"],"code":"export default 1","color":"red"}
POST /v1/accounts/{acc1}/workflows {"name":"","events":["*"],"code":"export default 1"}
GET /v1/accounts/{acc1}/workflows
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"name: is required","field":"name"}}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"events: is required","field":"events"}}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"events: must be a non-empty array of event names","field":"events"}}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"events[0]: unknown event \"user.made\"","field":"events"}}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"events[1]: \"*\" is listed twice","field":"events"}}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"events[0]: unknown event","field":"events"}}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"code: is required","field":"code"}}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"code: must be a non-empty string","field":"code"}}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"code: must be a non-empty string","field":"code"}}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"language: must be \"javascript\" or \"typescript\"","field":"language"}}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"roomId: no such room in this account","field":"roomId"}}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"enabled: must be true or false","field":"enabled"}}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"color: unknown field","field":"color"}}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"name: must be 1 to 256 characters long","field":"name"}}
GET /v1/accounts/{acc1}/workflows 200 {"data":[],"nextCursor":null}

=== TEST 3: code that does not compile is a 400 with its line and column (JavaScript, TypeScript, imports)
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/workflows {"name":"x","events":["*"],"code":"export default async function(event) {\n  const a = [1, 2;\n  return a;\n}"}
POST /v1/accounts/{acc1}/workflows {"name":"x","events":["*"],"code":"import * as std from 'std';\nexport default function() { return std.getenv('HOME'); }"}
POST /v1/accounts/{acc1}/workflows {"name":"x","events":["*"],"code":"export default function() {\n  return 1;\n}\nimport * as os from \"os\";"}
POST /v1/accounts/{acc1}/workflows {"name":"x","events":["*"],"language":"typescript","code":"interface User { id: string }\nexport default function(event: any): User {\n  return { id: ;\n}"}
POST /v1/accounts/{acc1}/workflows {"name":"x","events":["*"],"code":"interface User { id: string }\nexport default 1"}
GET /v1/accounts/{acc1}/workflows
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"code: expecting ']' (line 2, column 18)","field":"code","line":2,"column":18}}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"code: import of \"std\": workflows cannot import modules (line 1, column 22)","field":"code","line":1,"column":22}}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"code: import of \"os\": workflows cannot import modules (line 4, column 21)","field":"code","line":4,"column":21}}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"code: Unexpected \";\" (line 3, column 16)","field":"code","line":3,"column":16}}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"code: unexpected token in expression: 'interface' (line 1, column 1)","field":"code","line":1,"column":1}}
GET /v1/accounts/{acc1}/workflows 200 {"data":[],"nextCursor":null}

=== TEST 4: a TypeScript workflow runs; its result, and its error with a stack in the TypeScript's own lines
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/workflows {"name":"ts","events":["user.created"],"language":"typescript","code":"interface Greeting { text: string; n: number }\n\nfunction greet(who: string): Greeting {\n  return { text: `hello ${who}`, n: who.length };\n}\n\nexport default async function(event: { data: { userId: string } }): Promise<Greeting> {\n  if (event.data.userId === 'nobody') {\n    throw new Error('no such user');\n  }\n  return greet(event.data.userId);\n}"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test {"event":{"event":"user.created","data":{"userId":"user-001"}}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test {"event":{"event":"user.created","data":{"userId":"nobody"}}}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"ts","events":["user.created"],"roomId":null,"language":"typescript","enabled":true,"code":"interface Greeting { text: string; n: number }\n\nfunction greet(who: string): Greeting {\n  return { text: `hello ${who}`, n: who.length };\n}\n\nexport default async function(event: { data: { userId: string } }): Promise<Greeting> {\n  if (event.data.userId === 'nobody') {\n    throw new Error('no such user');\n  }\n  return greet(event.data.userId);\n}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe1}","workflowId":"{wf1}","event":"user.created","eventId":"{evt1}","status":"success","attempts":1,"durationMs":<ms>,"result":{"text":"hello user-001","n":8},"error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"user.created","data":{"userId":"user-001"},"timestamp":"<ts>"}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe2}","workflowId":"{wf1}","event":"user.created","eventId":"{evt2}","status":"error","attempts":1,"durationMs":<ms>,"result":null,"error":{"message":"no such user","stack":"Error: no such user\n    at default (workflow.ts:9:15)"},"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"user.created","data":{"userId":"nobody"},"timestamp":"<ts>"}}

=== TEST 5: a change: name and events as given; code and language compiled first, and left alone when they do not compile
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"Room one"}
POST /v1/accounts/{acc1}/workflows {"name":"v1","events":["user.created"],"code":"export default function() { return 1; }"}
PATCH /v1/accounts/{acc1}/workflows/{wf1} {"name":"v2","events":["user.created","user.deleted"]}
PATCH /v1/accounts/{acc1}/workflows/{wf1} {"code":"export default function() { return 2 +; }"}
GET /v1/accounts/{acc1}/workflows/{wf1}
PATCH /v1/accounts/{acc1}/workflows/{wf1} {"code":"export default function(e) { return 2; }"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test
PATCH /v1/accounts/{acc1}/workflows/{wf1} {"language":"typescript"}
PATCH /v1/accounts/{acc1}/workflows/{wf1} {"code":"export default function(e: any): number { return 3; }"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test {}
PATCH /v1/accounts/{acc1}/workflows/{wf1} {"roomId":"{room1}","enabled":false}
PATCH /v1/accounts/{acc1}/workflows/{wf1} {"roomId":null}
PATCH /v1/accounts/{acc1}/workflows/{wf1} {"enabled":1}
PATCH /v1/accounts/{acc1}/workflows/wf_NoSuchWorkflowNoSuchWork {"name":"x"}
PATCH /v1/accounts/{acc1}/workflows/wf_NoSuchWorkflowNoSuchWork {"code":"export default 1"}
DELETE /v1/accounts/{acc1}/workflows/{wf1}
GET /v1/accounts/{acc1}/workflows/{wf1}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions
DELETE /v1/accounts/{acc1}/workflows/{wf1}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"Room one","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"v1","events":["user.created"],"roomId":null,"language":"javascript","enabled":true,"code":"export default function() { return 1; }","createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/workflows/{wf1} 200 {"id":"{wf1}","name":"v2","events":["user.created","user.deleted"],"roomId":null,"language":"javascript","enabled":true,"code":"export default function() { return 1; }","createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/workflows/{wf1} 400 {"error":{"code":"invalid_request","message":"code: unexpected token in expression: ';' (line 1, column 39)","field":"code","line":1,"column":39}}
GET /v1/accounts/{acc1}/workflows/{wf1} 200 {"id":"{wf1}","name":"v2","events":["user.created","user.deleted"],"roomId":null,"language":"javascript","enabled":true,"code":"export default function() { return 1; }","createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/workflows/{wf1} 200 {"id":"{wf1}","name":"v2","events":["user.created","user.deleted"],"roomId":null,"language":"javascript","enabled":true,"code":"export default function(e) { return 2; }","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe1}","workflowId":"{wf1}","event":"user.created","eventId":"{evt1}","status":"success","attempts":1,"durationMs":<ms>,"result":2,"error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"user.created","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"}}
PATCH /v1/accounts/{acc1}/workflows/{wf1} 200 {"id":"{wf1}","name":"v2","events":["user.created","user.deleted"],"roomId":null,"language":"typescript","enabled":true,"code":"export default function(e) { return 2; }","createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/workflows/{wf1} 200 {"id":"{wf1}","name":"v2","events":["user.created","user.deleted"],"roomId":null,"language":"typescript","enabled":true,"code":"export default function(e: any): number { return 3; }","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe2}","workflowId":"{wf1}","event":"user.created","eventId":"{evt2}","status":"success","attempts":1,"durationMs":<ms>,"result":3,"error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"user.created","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"}}
PATCH /v1/accounts/{acc1}/workflows/{wf1} 200 {"id":"{wf1}","name":"v2","events":["user.created","user.deleted"],"roomId":"{room1}","language":"typescript","enabled":false,"code":"export default function(e: any): number { return 3; }","createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/workflows/{wf1} 200 {"id":"{wf1}","name":"v2","events":["user.created","user.deleted"],"roomId":null,"language":"typescript","enabled":false,"code":"export default function(e: any): number { return 3; }","createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/workflows/{wf1} 400 {"error":{"code":"invalid_request","message":"enabled: must be true or false","field":"enabled"}}
PATCH /v1/accounts/{acc1}/workflows/wf_NoSuchWorkflowNoSuchWork 404 {"error":{"code":"not_found","message":"workflow not found"}}
PATCH /v1/accounts/{acc1}/workflows/wf_NoSuchWorkflowNoSuchWork 404 {"error":{"code":"not_found","message":"workflow not found"}}
DELETE /v1/accounts/{acc1}/workflows/{wf1} 204
GET /v1/accounts/{acc1}/workflows/{wf1} 404 {"error":{"code":"not_found","message":"workflow not found"}}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions 404 {"error":{"code":"not_found","message":"workflow not found"}}
DELETE /v1/accounts/{acc1}/workflows/{wf1} 404 {"error":{"code":"not_found","message":"workflow not found"}}

=== TEST 6: a test run: the event given, or a sample of the first event; what a test refuses
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts {"name":"Other"}
POST /v1/accounts/{acc2}/rooms {"name":"Not yours"}
POST /v1/accounts/{acc1}/workflows {"name":"echo","events":["*"],"code":"export default (event) => event"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test
POST /v1/accounts/{acc1}/workflows/{wf1}/test {"event":{"event":"session.closed","data":{"roomId":null,"sessionId":"s1","durationMs":5},"timestamp":"2026-05-29T10:06:00.000Z"}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test {"event":{"event":"user.made","data":{}}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test {"event":{"event":"user.created"}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test {"event":{"event":"user.created","data":{},"extra":1}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test {"event":{"event":"user.created","data":{"roomId":"{room1}"}}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test {"event":{"event":"user.created","data":{},"timestamp":"yesterday"}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test {"event":"user.created"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test {"evt":{}}
POST /v1/accounts/{acc1}/workflows/wf_NoSuchWorkflowNoSuchWork/test
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts 201 {"id":"{acc2}","name":"Other","createdAt":"<ts>"}
POST /v1/accounts/{acc2}/rooms 201 {"id":"{room1}","name":"Not yours","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"echo","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default (event) => event","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe1}","workflowId":"{wf1}","event":"participant.joined","eventId":"{evt1}","status":"success","attempts":1,"durationMs":<ms>,"result":{"event":"participant.joined","data":{"userId":"user-001","roomId":null},"timestamp":"<ts>"},"error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"participant.joined","data":{"userId":"user-001","roomId":null},"timestamp":"<ts>"}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe2}","workflowId":"{wf1}","event":"session.closed","eventId":"{evt2}","status":"success","attempts":1,"durationMs":<ms>,"result":{"event":"session.closed","data":{"roomId":null,"sessionId":"s1","durationMs":<ms>},"timestamp":"<ts>"},"error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"session.closed","data":{"roomId":null,"sessionId":"s1","durationMs":<ms>},"timestamp":"<ts>"}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 400 {"error":{"code":"invalid_request","message":"event.event: must be the name of an event","field":"event"}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 400 {"error":{"code":"invalid_request","message":"event.data: must be an object","field":"event"}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 400 {"error":{"code":"invalid_request","message":"event.extra: unknown field","field":"event"}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 400 {"error":{"code":"invalid_request","message":"event.data.roomId: no such room in this account","field":"event"}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 400 {"error":{"code":"invalid_request","message":"event.timestamp: must be an ISO 8601 UTC time such as <ts>","field":"event"}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 400 {"error":{"code":"invalid_request","message":"event: must be an event envelope {event, data, timestamp}","field":"event"}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 400 {"error":{"code":"invalid_request","message":"evt: unknown field","field":"evt"}}
POST /v1/accounts/{acc1}/workflows/wf_NoSuchWorkflowNoSuchWork/test 404 {"error":{"code":"not_found","message":"workflow not found"}}

=== TEST 7: the execution log: newest first, by status, by cursor; one execution with its event
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/workflows {"name":"odd","events":["*"],"code":"export default (event) => { if (event.data.n % 2) throw new Error('odd ' + event.data.n); return event.data.n; }"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test {"event":{"event":"user.updated","data":{"n":1}}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test {"event":{"event":"user.updated","data":{"n":2}}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test {"event":{"event":"user.updated","data":{"n":3}}}
count GET /v1/accounts/{acc1}/workflows/{wf1}/executions
GET /v1/accounts/{acc1}/workflows/{wf1}/executions?status=error&limit=1
GET /v1/accounts/{acc1}/workflows/{wf1}/executions?status=error&limit=1&cursor={cursor1}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions?status=success
count GET /v1/accounts/{acc1}/workflows/{wf1}/executions?status=pending
GET /v1/accounts/{acc1}/workflows/{wf1}/executions?status=done
GET /v1/accounts/{acc1}/workflows/{wf1}/executions?limit=1000
GET /v1/accounts/{acc1}/workflows/{wf1}/executions?cursor=nope
GET /v1/accounts/{acc1}/workflows/{wf1}/executions/{exe2}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions/exe_NoSuchExecutionNoSuchEx
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"odd","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default (event) => { if (event.data.n % 2) throw new Error('odd ' + event.data.n); return event.data.n; }","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe1}","workflowId":"{wf1}","event":"user.updated","eventId":"{evt1}","status":"error","attempts":1,"durationMs":<ms>,"result":null,"error":{"message":"odd 1","stack":"Error: odd 1\n    at default (workflow.js:1:66)"},"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"user.updated","data":{"n":1},"timestamp":"<ts>"}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe2}","workflowId":"{wf1}","event":"user.updated","eventId":"{evt2}","status":"success","attempts":1,"durationMs":<ms>,"result":2,"error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"user.updated","data":{"n":2},"timestamp":"<ts>"}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe3}","workflowId":"{wf1}","event":"user.updated","eventId":"{evt3}","status":"error","attempts":1,"durationMs":<ms>,"result":null,"error":{"message":"odd 3","stack":"Error: odd 3\n    at default (workflow.js:1:66)"},"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"user.updated","data":{"n":3},"timestamp":"<ts>"}}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions 200 3 items, last page
GET /v1/accounts/{acc1}/workflows/{wf1}/executions?status=error&limit=1 200 {"data":[{"id":"{exe3}","workflowId":"{wf1}","event":"user.updated","eventId":"{evt3}","status":"error","attempts":1,"durationMs":<ms>,"result":null,"error":{"message":"odd 3","stack":"Error: odd 3\n    at default (workflow.js:1:66)"},"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"}],"nextCursor":"{cursor1}"}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions?status=error&limit=1&cursor={cursor1} 200 {"data":[{"id":"{exe1}","workflowId":"{wf1}","event":"user.updated","eventId":"{evt1}","status":"error","attempts":1,"durationMs":<ms>,"result":null,"error":{"message":"odd 1","stack":"Error: odd 1\n    at default (workflow.js:1:66)"},"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions?status=success 200 {"data":[{"id":"{exe2}","workflowId":"{wf1}","event":"user.updated","eventId":"{evt2}","status":"success","attempts":1,"durationMs":<ms>,"result":2,"error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions?status=pending 200 0 items, last page
GET /v1/accounts/{acc1}/workflows/{wf1}/executions?status=done 400 {"error":{"code":"invalid_request","message":"status: must be pending, running, success, error or timeout","field":"status"}}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions?limit=1000 400 {"error":{"code":"invalid_request","message":"limit: must be an integer from 1 to 100","field":"limit"}}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions?cursor=nope 400 {"error":{"code":"invalid_request","message":"cursor: not a cursor of this list","field":"cursor"}}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions/{exe2} 200 {"id":"{exe2}","workflowId":"{wf1}","event":"user.updated","eventId":"{evt2}","status":"success","attempts":1,"durationMs":<ms>,"result":2,"error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"user.updated","data":{"n":2},"timestamp":"<ts>"}}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions/exe_NoSuchExecutionNoSuchEx 404 {"error":{"code":"not_found","message":"execution not found"}}

=== TEST 8: who runs an event: a workflow of its room or of every room, for its events or "*"; a disabled one records nothing
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"one"}
POST /v1/accounts/{acc1}/rooms {"name":"two"}
POST /v1/accounts/{acc1}/workflows {"name":"room one","events":["user.created"],"roomId":"{room1}","code":"export default (e) => e.data.userId"}
POST /v1/accounts/{acc1}/workflows {"name":"all","events":["*"],"code":"export default (e) => e.event + ' ' + e.data.userId"}
POST /v1/accounts/{acc1}/workflows {"name":"off","events":["user.created"],"enabled":false,"code":"export default (e) => e.data.userId"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"a"}
POST /v1/accounts/{acc1}/rooms/{room2}/users {"userId":"b"}
PATCH /v1/accounts/{acc1}/rooms/{room2}/users/b {"name":"Bea"}
settled 1 GET /v1/accounts/{acc1}/workflows/{wf1}/executions
settled 3 GET /v1/accounts/{acc1}/workflows/{wf2}/executions
count GET /v1/accounts/{acc1}/workflows/{wf3}/executions
PATCH /v1/accounts/{acc1}/workflows/{wf2} {"enabled":false}
PATCH /v1/accounts/{acc1}/workflows/{wf3} {"enabled":true}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"c"}
settled 2 GET /v1/accounts/{acc1}/workflows/{wf1}/executions
settled 1 GET /v1/accounts/{acc1}/workflows/{wf3}/executions
count GET /v1/accounts/{acc1}/workflows/{wf2}/executions
PATCH /v1/accounts/{acc1}/workflows/{wf2} {"enabled":true}
DELETE /v1/accounts/{acc1}/rooms/{room2}/users/b
count settled 4 GET /v1/accounts/{acc1}/workflows/{wf2}/executions
GET /v1/accounts/{acc1}/workflows/{wf2}/executions?limit=1
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"one","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room2}","name":"two","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"room one","events":["user.created"],"roomId":"{room1}","language":"javascript","enabled":true,"code":"export default (e) => e.data.userId","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf2}","name":"all","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default (e) => e.event + ' ' + e.data.userId","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf3}","name":"off","events":["user.created"],"roomId":null,"language":"javascript","enabled":false,"code":"export default (e) => e.data.userId","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"a","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room2}/users 201 {"userId":"b","roomId":"{room2}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/rooms/{room2}/users/b 200 {"userId":"b","roomId":"{room2}","name":"Bea","email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions 200 {"data":[{"id":"{exe1}","workflowId":"{wf1}","event":"user.created","eventId":"{evt1}","status":"success","attempts":1,"durationMs":<ms>,"result":"a","error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/workflows/{wf2}/executions 200 {"data":[{"id":"{exe2}","workflowId":"{wf2}","event":"user.updated","eventId":"{evt2}","status":"success","attempts":1,"durationMs":<ms>,"result":"user.updated b","error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"},{"id":"{exe3}","workflowId":"{wf2}","event":"user.created","eventId":"{evt3}","status":"success","attempts":1,"durationMs":<ms>,"result":"user.created b","error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"},{"id":"{exe4}","workflowId":"{wf2}","event":"user.created","eventId":"{evt1}","status":"success","attempts":1,"durationMs":<ms>,"result":"user.created a","error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/workflows/{wf3}/executions 200 0 items, last page
PATCH /v1/accounts/{acc1}/workflows/{wf2} 200 {"id":"{wf2}","name":"all","events":["*"],"roomId":null,"language":"javascript","enabled":false,"code":"export default (e) => e.event + ' ' + e.data.userId","createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/workflows/{wf3} 200 {"id":"{wf3}","name":"off","events":["user.created"],"roomId":null,"language":"javascript","enabled":true,"code":"export default (e) => e.data.userId","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"c","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions 200 {"data":[{"id":"{exe5}","workflowId":"{wf1}","event":"user.created","eventId":"{evt4}","status":"success","attempts":1,"durationMs":<ms>,"result":"c","error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"},{"id":"{exe1}","workflowId":"{wf1}","event":"user.created","eventId":"{evt1}","status":"success","attempts":1,"durationMs":<ms>,"result":"a","error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/workflows/{wf3}/executions 200 {"data":[{"id":"{exe6}","workflowId":"{wf3}","event":"user.created","eventId":"{evt4}","status":"success","attempts":1,"durationMs":<ms>,"result":"c","error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/workflows/{wf2}/executions 200 3 items, last page
PATCH /v1/accounts/{acc1}/workflows/{wf2} 200 {"id":"{wf2}","name":"all","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default (e) => e.event + ' ' + e.data.userId","createdAt":"<ts>","updatedAt":"<ts>"}
DELETE /v1/accounts/{acc1}/rooms/{room2}/users/b 204
GET /v1/accounts/{acc1}/workflows/{wf2}/executions 200 4 items, last page
GET /v1/accounts/{acc1}/workflows/{wf2}/executions?limit=1 200 {"data":[{"id":"{exe7}","workflowId":"{wf2}","event":"user.deleted","eventId":"{evt5}","status":"success","attempts":1,"durationMs":<ms>,"result":"user.deleted b","error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"}],"nextCursor":"{cursor1}"}

=== TEST 9: a disabled workflow's pending executions wait and run once it is enabled again; deleting a workflow takes its executions, pending ones too
--- http_config eval
$CollabTest::HttpConfig . "    collab_workflow_concurrency 1;\n"
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"one"}
POST /v1/accounts/{acc1}/workflows {"name":"slow","events":["user.created"],"code":"export default async (e) => { await new Promise((r) => setTimeout(r, 1000)); return e.data.userId; }"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"a"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"b"}
sleep 500
PATCH /v1/accounts/{acc1}/workflows/{wf1} {"enabled":false}
sleep 2500
GET /v1/accounts/{acc1}/workflows/{wf1}/executions
PATCH /v1/accounts/{acc1}/workflows/{wf1} {"enabled":true}
settled 2 GET /v1/accounts/{acc1}/workflows/{wf1}/executions
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"c"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"d"}
sleep 300
count GET /v1/accounts/{acc1}/workflows/{wf1}/executions?status=running
count GET /v1/accounts/{acc1}/workflows/{wf1}/executions?status=pending
DELETE /v1/accounts/{acc1}/workflows/{wf1}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions
sleep 1500
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"one","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"slow","events":["user.created"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async (e) => { await new Promise((r) => setTimeout(r, 1000)); return e.data.userId; }","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"a","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"b","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/workflows/{wf1} 200 {"id":"{wf1}","name":"slow","events":["user.created"],"roomId":null,"language":"javascript","enabled":false,"code":"export default async (e) => { await new Promise((r) => setTimeout(r, 1000)); return e.data.userId; }","createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions 200 {"data":[{"id":"{exe1}","workflowId":"{wf1}","event":"user.created","eventId":"{evt1}","status":"pending","attempts":0,"durationMs":null,"result":null,"error":null,"logs":[],"fetches":[],"startedAt":null,"finishedAt":null,"createdAt":"<ts>"},{"id":"{exe2}","workflowId":"{wf1}","event":"user.created","eventId":"{evt2}","status":"success","attempts":1,"durationMs":<ms>,"result":"a","error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"}],"nextCursor":null}
PATCH /v1/accounts/{acc1}/workflows/{wf1} 200 {"id":"{wf1}","name":"slow","events":["user.created"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async (e) => { await new Promise((r) => setTimeout(r, 1000)); return e.data.userId; }","createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions 200 {"data":[{"id":"{exe1}","workflowId":"{wf1}","event":"user.created","eventId":"{evt1}","status":"success","attempts":1,"durationMs":<ms>,"result":"b","error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"},{"id":"{exe2}","workflowId":"{wf1}","event":"user.created","eventId":"{evt2}","status":"success","attempts":1,"durationMs":<ms>,"result":"a","error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"}],"nextCursor":null}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"c","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"d","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions?status=running 200 1 items, last page
GET /v1/accounts/{acc1}/workflows/{wf1}/executions?status=pending 200 1 items, last page
DELETE /v1/accounts/{acc1}/workflows/{wf1} 204
GET /v1/accounts/{acc1}/workflows/{wf1}/executions 404 {"error":{"code":"not_found","message":"workflow not found"}}

=== TEST 10: finished executions are purged after collab_execution_retention
--- http_config eval
$CollabTest::HttpConfig . "    collab_execution_retention 1s;\n"
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/workflows {"name":"one","events":["*"],"code":"export default () => 1"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test
count GET /v1/accounts/{acc1}/workflows/{wf1}/executions
sleep 3500
count GET /v1/accounts/{acc1}/workflows/{wf1}/executions
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"one","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default () => 1","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe1}","workflowId":"{wf1}","event":"participant.joined","eventId":"{evt1}","status":"success","attempts":1,"durationMs":<ms>,"result":1,"error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"participant.joined","data":{"userId":"user-001","roomId":null},"timestamp":"<ts>"}}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions 200 1 items, last page
GET /v1/accounts/{acc1}/workflows/{wf1}/executions 200 0 items, last page

