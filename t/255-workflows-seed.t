# The product document's workflows, with their code unchanged: "Log new
# participants" (with participant events of the test route, and with those
# that presence records when a user comes online and goes offline through
# server heartbeats), "Auto-Create Welcome Store Entry" against a
# stored settings value, and the bindings example (returning what it read)
# checked value by value against what the API answers for the same room.
# The Slack example is t/256-workflows-slack.t.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("timeout", 30) if !defined $block->timeout;
});

run_tests();

__DATA__

=== TEST 1: "Log new participants", created as the document does; its execution log
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"Design review"}
POST /v1/accounts/{acc1}/workflows {"name": "Log new participants", "events": ["participant.joined", "participant.left"], "code": "export default async function(event, { room }) {\n  const roomData = await room.get();\n  console.log(`[${event.event}] User ${event.data.userId} in room ${roomData.name}`);\n  return { logged: true };\n}"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test {"event":{"event":"participant.joined","data":{"userId":"user-001","roomId":"{room1}"}}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test {"event":{"event":"participant.left","data":{"userId":"user-001","roomId":"{room1}"}}}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions?limit=10
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"Design review","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"Log new participants","events":["participant.joined","participant.left"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async function(event, { room }) {\n  const roomData = await room.get();\n  console.log(`[${event.event}] User ${event.data.userId} in room ${roomData.name}`);\n  return { logged: true };\n}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe1}","workflowId":"{wf1}","event":"participant.joined","eventId":"{evt1}","status":"success","attempts":1,"durationMs":<ms>,"result":{"logged":true},"error":null,"logs":[{"level":"log","message":"[participant.joined] User user-001 in room Design review","at":"<ts>"}],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"participant.joined","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe2}","workflowId":"{wf1}","event":"participant.left","eventId":"{evt2}","status":"success","attempts":1,"durationMs":<ms>,"result":{"logged":true},"error":null,"logs":[{"level":"log","message":"[participant.left] User user-001 in room Design review","at":"<ts>"}],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"participant.left","data":{"userId":"user-001","roomId":"{room1}"},"timestamp":"<ts>"}}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions?limit=10 200 {"data":[{"id":"{exe2}","workflowId":"{wf1}","event":"participant.left","eventId":"{evt2}","status":"success","attempts":1,"durationMs":<ms>,"result":{"logged":true},"error":null,"logs":[{"level":"log","message":"[participant.left] User user-001 in room Design review","at":"<ts>"}],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"},{"id":"{exe1}","workflowId":"{wf1}","event":"participant.joined","eventId":"{evt1}","status":"success","attempts":1,"durationMs":<ms>,"result":{"logged":true},"error":null,"logs":[{"level":"log","message":"[participant.joined] User user-001 in room Design review","at":"<ts>"}],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"}],"nextCursor":null}

=== TEST 2: "Auto-Create Welcome Store Entry": a new user's stored settings in the log, null for one without, nothing for another event
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"Design review"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/settings/user-001 {"theme":"dark","notifications":{"email":false,"push":true},"tags":["ux","a11y"]}
POST /v1/accounts/{acc1}/workflows {"name":"Welcome","events":["user.created","user.updated"],"code":"export default async function(event, { store }) {\n  if (event.event !== 'user.created') return;\n\n  // Note: workflow store access is read-only\n  // Use this to check existing state, then use fetch()\n  // to call external APIs with the data\n  const existing = await store.get('settings', event.data.userId);\n  console.log('User settings:', existing);\n\n  return { checked: true };\n}"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001","name":"Ann"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-002","name":"Bob"}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-002 {"name":"Bobby"}
settled 3 GET /v1/accounts/{acc1}/workflows/{wf1}/executions
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"Design review","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/settings/user-001 201 {"key":"user-001","value":{"theme":"dark","notifications":{"email":false,"push":true},"tags":["ux","a11y"]},"updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"Welcome","events":["user.created","user.updated"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async function(event, { store }) {\n  if (event.event !== 'user.created') return;\n\n  // Note: workflow store access is read-only\n  // Use this to check existing state, then use fetch()\n  // to call external APIs with the data\n  const existing = await store.get('settings', event.data.userId);\n  console.log('User settings:', existing);\n\n  return { checked: true };\n}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":"Ann","email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-002","roomId":"{room1}","name":"Bob","email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-002 200 {"userId":"user-002","roomId":"{room1}","name":"Bobby","email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions 200 {"data":[{"id":"{exe1}","workflowId":"{wf1}","event":"user.updated","eventId":"{evt1}","status":"success","attempts":1,"durationMs":<ms>,"result":null,"error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"},{"id":"{exe2}","workflowId":"{wf1}","event":"user.created","eventId":"{evt2}","status":"success","attempts":1,"durationMs":<ms>,"result":{"checked":true},"error":null,"logs":[{"level":"log","message":"User settings: null","at":"<ts>"}],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"},{"id":"{exe3}","workflowId":"{wf1}","event":"user.created","eventId":"{evt3}","status":"success","attempts":1,"durationMs":<ms>,"result":{"checked":true},"error":null,"logs":[{"level":"log","message":"User settings: {\n  theme: 'dark',\n  notifications: { email: false, push: true },\n  tags: [ 'ux', 'a11y' ]\n}","at":"<ts>"}],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"}],"nextCursor":null}

=== TEST 3: the bindings example, returning what it read: the same values the API answers, of the event's room only
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"Design review","metadata":{"team":"ux","floor":3}}
POST /v1/accounts/{acc1}/rooms {"name":"Elsewhere"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001","name":"Ann","email":"ann@example.com","metadata":{"role":"lead"}}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-002"}
POST /v1/accounts/{acc1}/rooms/{room2}/users {"userId":"user-999"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/tasks/task-1 {"title":"Review","done":false,"n":1.5e3}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/tasks/task-2 "ship ✓"
PUT /v1/accounts/{acc1}/rooms/{room2}/stores/tasks/task-3 true
header Content-Type: text/markdown
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/notes/today.md # Notes
POST /v1/accounts/{acc1}/workflows {"name":"Bindings","events":["user.updated"],"code":"export default async function(event, bindings) {\n  // event.event    -- \"participant.joined\", etc.\n  // event.data     -- event-specific payload\n\n  const { store, room, files } = bindings;\n\n  // Read from KV stores\n  const value = await store.get('tasks', 'task-1');\n  const all = await store.getAll('tasks');\n\n  // Read room and user data\n  const roomData = await room.get();\n  const users = await room.getUsers();\n\n  // Work with files\n  const fileList = await files.list();\n\n  return { value, all, roomData, users, fileList };\n}"}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-002 {"name":"Bob"}
settled 1 GET /v1/accounts/{acc1}/workflows/{wf1}/executions
GET /v1/accounts/{acc1}/rooms/{room1}/stores/tasks/task-1
GET /v1/accounts/{acc1}/rooms/{room1}/stores/tasks
GET /v1/accounts/{acc1}/rooms/{room1}
GET /v1/accounts/{acc1}/rooms/{room1}/users
GET /v1/accounts/{acc1}/rooms/{room1}/files
POST /v1/accounts/{acc1}/workflows/{wf1}/test {"event":{"event":"user.updated","data":{"userId":"user-001"}}}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"Design review","metadata":{"team":"ux","floor":3},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room2}","name":"Elsewhere","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":"Ann","email":"ann@example.com","metadata":{"role":"lead"},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-002","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room2}/users 201 {"userId":"user-999","roomId":"{room2}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/tasks/task-1 201 {"key":"task-1","value":{"title":"Review","done":false,"n":1500},"updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/stores/tasks/task-2 201 {"key":"task-2","value":"ship ✓","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room2}/stores/tasks/task-3 201 {"key":"task-3","value":true,"updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/files/notes/today.md 201 {"name":"notes/today.md","size":7,"contentType":"text/markdown","etag":"\"{blob1}\"","uploadedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"Bindings","events":["user.updated"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async function(event, bindings) {\n  // event.event    -- \"participant.joined\", etc.\n  // event.data     -- event-specific payload\n\n  const { store, room, files } = bindings;\n\n  // Read from KV stores\n  const value = await store.get('tasks', 'task-1');\n  const all = await store.getAll('tasks');\n\n  // Read room and user data\n  const roomData = await room.get();\n  const users = await room.getUsers();\n\n  // Work with files\n  const fileList = await files.list();\n\n  return { value, all, roomData, users, fileList };\n}","createdAt":"<ts>","updatedAt":"<ts>"}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/user-002 200 {"userId":"user-002","roomId":"{room1}","name":"Bob","email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions 200 {"data":[{"id":"{exe1}","workflowId":"{wf1}","event":"user.updated","eventId":"{evt1}","status":"success","attempts":1,"durationMs":<ms>,"result":{"value":{"title":"Review","done":false,"n":1500},"all":{"task-1":{"title":"Review","done":false,"n":1500},"task-2":"ship ✓"},"roomData":{"id":"{room1}","name":"Design review","metadata":{"team":"ux","floor":3},"createdAt":"<ts>","updatedAt":"<ts>"},"users":[{"userId":"user-002","roomId":"{room1}","name":"Bob","email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"},{"userId":"user-001","roomId":"{room1}","name":"Ann","email":"ann@example.com","metadata":{"role":"lead"},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}],"fileList":[{"name":"notes/today.md","size":7,"contentType":"text/markdown","etag":"\"{blob1}\"","uploadedAt":"<ts>"}]},"error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/tasks/task-1 200 {"title":"Review","done":false,"n":1500}
GET /v1/accounts/{acc1}/rooms/{room1}/stores/tasks 200 {"data":[{"key":"task-1","value":{"title":"Review","done":false,"n":1500},"updatedAt":"<ts>"},{"key":"task-2","value":"ship ✓","updatedAt":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/rooms/{room1} 200 {"id":"{room1}","name":"Design review","metadata":{"team":"ux","floor":3},"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/rooms/{room1}/users 200 {"data":[{"userId":"user-002","roomId":"{room1}","name":"Bob","email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"},{"userId":"user-001","roomId":"{room1}","name":"Ann","email":"ann@example.com","metadata":{"role":"lead"},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/rooms/{room1}/files 200 {"data":[{"name":"notes/today.md","size":7,"contentType":"text/markdown","etag":"\"{blob1}\"","uploadedAt":"<ts>"}],"nextCursor":null}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe2}","workflowId":"{wf1}","event":"user.updated","eventId":"{evt2}","status":"success","attempts":1,"durationMs":<ms>,"result":{"value":null,"all":{},"roomData":null,"users":[],"fileList":[]},"error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"user.updated","data":{"userId":"user-001"},"timestamp":"<ts>"}}


=== TEST 4: "Log new participants" on the events presence records: a user online through a server heartbeat, then offline
--- http_config eval
$CollabTest::HttpConfig . "    collab_presence_grace 0;\n"
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"Design review"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
POST /v1/accounts/{acc1}/workflows {"name": "Log new participants", "events": ["participant.joined", "participant.left"], "code": "export default async function(event, { room }) {\n  const roomData = await room.get();\n  console.log(`[${event.event}] User ${event.data.userId} in room ${roomData.name}`);\n  return { logged: true };\n}"}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/user-001 {"ttl":60}
settled 1 GET /v1/accounts/{acc1}/workflows/{wf1}/executions
DELETE /v1/accounts/{acc1}/rooms/{room1}/presence/user-001
settled 2 GET /v1/accounts/{acc1}/workflows/{wf1}/executions
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"Design review","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"Log new participants","events":["participant.joined","participant.left"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async function(event, { room }) {\n  const roomData = await room.get();\n  console.log(`[${event.event}] User ${event.data.userId} in room ${roomData.name}`);\n  return { logged: true };\n}","createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/user-001 200 {"userId":"user-001","since":"<ts>","connections":0,"heartbeatUntil":"<ts>"}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions 200 {"data":[{"id":"{exe1}","workflowId":"{wf1}","event":"participant.joined","eventId":"{evt1}","status":"success","attempts":1,"durationMs":<ms>,"result":{"logged":true},"error":null,"logs":[{"level":"log","message":"[participant.joined] User user-001 in room Design review","at":"<ts>"}],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"}],"nextCursor":null}
DELETE /v1/accounts/{acc1}/rooms/{room1}/presence/user-001 204
GET /v1/accounts/{acc1}/workflows/{wf1}/executions 200 {"data":[{"id":"{exe2}","workflowId":"{wf1}","event":"participant.left","eventId":"{evt2}","status":"success","attempts":1,"durationMs":<ms>,"result":{"logged":true},"error":null,"logs":[{"level":"log","message":"[participant.left] User user-001 in room Design review","at":"<ts>"}],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"},{"id":"{exe1}","workflowId":"{wf1}","event":"participant.joined","eventId":"{evt1}","status":"success","attempts":1,"durationMs":<ms>,"result":{"logged":true},"error":null,"logs":[{"level":"log","message":"[participant.joined] User user-001 in room Design review","at":"<ts>"}],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"}],"nextCursor":null}

=== TEST 5: a workflow sees who is online: room.getUsers() as the user list answers it, online included
--- http_config eval
$CollabTest::HttpConfig . "    collab_presence_grace 0;\n"
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"ann"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"bob"}
POST /v1/accounts/{acc1}/workflows {"name":"who","events":["participant.joined"],"code":"export default async (event, { room }) => (await room.getUsers()).map((u) => u.userId + (u.online ? ' online' : ' offline'))"}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bob {"ttl":60}
settled 1 GET /v1/accounts/{acc1}/workflows/{wf1}/executions
GET /v1/accounts/{acc1}/rooms/{room1}/users
DELETE /v1/accounts/{acc1}/rooms/{room1}/presence/bob
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"ann","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"bob","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"who","events":["participant.joined"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async (event, { room }) => (await room.getUsers()).map((u) => u.userId + (u.online ? ' online' : ' offline'))","createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bob 200 {"userId":"bob","since":"<ts>","connections":0,"heartbeatUntil":"<ts>"}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions 200 {"data":[{"id":"{exe1}","workflowId":"{wf1}","event":"participant.joined","eventId":"{evt1}","status":"success","attempts":1,"durationMs":<ms>,"result":["bob online","ann offline"],"error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"}],"nextCursor":null}
GET /v1/accounts/{acc1}/rooms/{room1}/users 200 {"data":[{"userId":"bob","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":true,"createdAt":"<ts>","updatedAt":"<ts>"},{"userId":"ann","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}],"nextCursor":null}
DELETE /v1/accounts/{acc1}/rooms/{room1}/presence/bob 204

