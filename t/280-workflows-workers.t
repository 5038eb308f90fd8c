# Two workers record events and run executions at the same time: each
# execution runs exactly once while nothing crashes (the claim's lease
# keeps an execution from being run by both), and every execution's
# fetch reaches the receiver once, with the execution's event id.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

workers(2);
master_on();
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", $CollabTest::HttpConfig
                                     . $CollabTest::Receiver . <<'_EOC_'
    collab_workflow_allow_address 127.0.0.1;

_EOC_
        . CollabTest::spread_server('$TEST_NGINX_COLLAB_DNS_PORT'));

    $block->set_value("timeout", 40);
});

run_tests();

__DATA__

=== TEST 1: a burst of events from both workers: each execution runs once, and its fetch arrives once
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/workflows {"name":"notify","events":["user.created"],"code":"export default async function(event) {\n  const r = await fetch('http://127.0.0.1:{port2}/hook/ok', {\n    method: 'POST',\n    headers: { 'webhook-id': event.data.userId + ' ' + event.event },\n    body: JSON.stringify(event.data),\n  });\n  return r.status;\n}"}
port third
repeat 15 POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u{i}"}
repeat 15 POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"v{i}"}
repeat 15 POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"w{i}"}
port first
wait 45
sleep 1500
tally
count settled 45 GET /v1/accounts/{acc1}/workflows/{wf1}/executions?status=success&limit=100
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"notify","events":["user.created"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async function(event) {\n  const r = await fetch('http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/ok', {\n    method: 'POST',\n    headers: { 'webhook-id': event.data.userId + ' ' + event.event },\n    body: JSON.stringify(event.data),\n  });\n  return r.status;\n}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users x15 201:15 (several workers)
POST /v1/accounts/{acc1}/rooms/{room1}/users x15 201:15 (several workers)
POST /v1/accounts/{acc1}/rooms/{room1}/users x15 201:15 (several workers)
received 45
45 requests, 45 distinct webhook-ids
GET /v1/accounts/{acc1}/workflows/{wf1}/executions?status=success&limit=100 200 45 items, last page

