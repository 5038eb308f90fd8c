# Every limit of an execution, and code that tries what it may not: each
# ends its execution with "timeout" or "error" and a message that names
# the limit (or the rule), while the API answers at once and other
# executions go on.  Fetches go to this nginx's second server (127.0.0.1,
# let through by collab_workflow_allow_address) or are refused by the
# address rules: directly, after DNS (t/lib/dns-responder.pl answers
# 127.0.0.2), after a redirect.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();

our $Limits = <<'_EOC_';
    collab_workflow_timeout         2s;
    collab_workflow_fetch_timeout   1s;
    collab_workflow_fetch_max_size  1k;
    collab_workflow_allow_address   127.0.0.1;
    resolver 127.0.0.1:$TEST_NGINX_COLLAB_DNS_PORT valid=1s ipv6=off;
    resolver_timeout 1s;

    server {
        listen 127.0.0.1:$TEST_NGINX_COLLAB_PORT2;
        location = /ok {
            return 200 "ok\n";
        }
        location = /big {
            root html;
            try_files /big.txt =404;
        }
        location = /redirect {
            return 302 http://127.0.0.2:$TEST_NGINX_COLLAB_PORT2/ok;
        }
        location /hook/ {
            root logs;
            set $collab_received_file $realpath_root/received.jsonl;
            js_content collab.receive;
        }
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config", $CollabTest::HttpConfig . $Limits);
    }
    $block->set_value("user_files", ">>> big.txt\n" . ("x" x 4000) . "\n");
    $block->set_value("timeout", 40);
});

run_tests();

__DATA__

=== TEST 1: time: a busy loop ends at collab_workflow_timeout; meanwhile the API answers, and another execution runs on the other runner
--- http_config eval
$CollabTest::HttpConfig . $::Limits . "    collab_workflow_runners 2;\n"
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/workflows {"name":"spin","events":["*"],"code":"export default function() { for (;;) {} }"}
POST /v1/accounts/{acc1}/workflows {"name":"quick","events":["*"],"code":"export default () => 'still here'"}
background POST /v1/accounts/{acc1}/workflows/{wf1}/test
sleep 500
during GET /v1/accounts/{acc1}
during POST /v1/accounts/{acc1}/workflows/{wf2}/test
join
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"spin","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default function() { for (;;) {} }","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf2}","name":"quick","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default () => 'still here'","createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1} 200 (answered while the background request waited) {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows/{wf2}/test 200 (answered while the background request waited) {"id":"{exe1}","workflowId":"{wf2}","event":"participant.joined","eventId":"{evt1}","status":"success","attempts":1,"durationMs":<ms>,"result":"still here","error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"participant.joined","data":{"userId":"user-001","roomId":null},"timestamp":"<ts>"}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe2}","workflowId":"{wf1}","event":"participant.joined","eventId":"{evt2}","status":"timeout","attempts":1,"durationMs":<ms>,"result":null,"error":{"message":"collab_workflow_timeout: the execution ran longer than 2s","stack":null},"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"participant.joined","data":{"userId":"user-001","roomId":null},"timestamp":"<ts>"}}

=== TEST 2: time: an endless chain of awaits ends at collab_workflow_timeout; meanwhile another execution runs on the same runner
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/workflows {"name":"awaits","events":["*"],"code":"export default async function() { for (;;) await null; }"}
POST /v1/accounts/{acc1}/workflows {"name":"quick","events":["*"],"code":"export default () => 'still here'"}
background POST /v1/accounts/{acc1}/workflows/{wf1}/test
sleep 300
during GET /v1/accounts/{acc1}
during POST /v1/accounts/{acc1}/workflows/{wf2}/test
join
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"awaits","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async function() { for (;;) await null; }","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf2}","name":"quick","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default () => 'still here'","createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1} 200 (answered while the background request waited) {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows/{wf2}/test 200 (answered while the background request waited) {"id":"{exe1}","workflowId":"{wf2}","event":"participant.joined","eventId":"{evt1}","status":"success","attempts":1,"durationMs":<ms>,"result":"still here","error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"participant.joined","data":{"userId":"user-001","roomId":null},"timestamp":"<ts>"}}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe2}","workflowId":"{wf1}","event":"participant.joined","eventId":"{evt2}","status":"timeout","attempts":1,"durationMs":<ms>,"result":null,"error":{"message":"collab_workflow_timeout: the execution ran longer than 2s","stack":null},"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"participant.joined","data":{"userId":"user-001","roomId":null},"timestamp":"<ts>"}}

=== TEST 3: memory and stack: a memory bomb ends at collab_workflow_memory, deep recursion at the stack's limit; the API goes on
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/workflows {"name":"bomb","events":["*"],"code":"export default function() {\n  const all = [];\n  for (;;) all.push(new Array(100000).fill(all.length));\n}"}
POST /v1/accounts/{acc1}/workflows {"name":"deep","events":["*"],"code":"function down(n) { return down(n + 1) + 1; }\nexport default function() { return down(0); }"}
background POST /v1/accounts/{acc1}/workflows/{wf1}/test
during GET /v1/accounts/{acc1}
join
pick status,error.message POST /v1/accounts/{acc1}/workflows/{wf2}/test
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"bomb","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default function() {\n  const all = [];\n  for (;;) all.push(new Array(100000).fill(all.length));\n}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf2}","name":"deep","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"function down(n) { return down(n + 1) + 1; }\nexport default function() { return down(0); }","createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1} 200 (answered while the background request waited) {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe1}","workflowId":"{wf1}","event":"participant.joined","eventId":"{evt1}","status":"error","attempts":1,"durationMs":<ms>,"result":null,"error":{"message":"collab_workflow_memory: the execution needed more than 128m of memory","stack":null},"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"participant.joined","data":{"userId":"user-001","roomId":null},"timestamp":"<ts>"}}
POST /v1/accounts/{acc1}/workflows/{wf2}/test 200 {"status":"error","error.message":"stack overflow"}

=== TEST 4: what workflow code may not reach: the std and os modules, by import or dynamically, files, processes
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/workflows {"name":"std","events":["*"],"code":"import * as std from 'std';\nexport default () => std.getenv('PATH');"}
POST /v1/accounts/{acc1}/workflows {"name":"os","events":["*"],"code":"import { exec } from 'os';\nexport default () => exec(['/bin/true']);"}
POST /v1/accounts/{acc1}/workflows {"name":"dynamic","events":["*"],"code":"export default async function() {\n  const os = await import('os');\n  return os.exec(['/bin/true']);\n}"}
POST /v1/accounts/{acc1}/workflows {"name":"globals","events":["*"],"code":"export default () => [typeof std, typeof os, typeof require, typeof process, typeof scriptArgs, typeof print].join(' ')"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test
POST /v1/accounts/{acc1}/workflows/{wf2}/test
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"code: import of \"std\": workflows cannot import modules (line 1, column 22)","field":"code","line":1,"column":22}}
POST /v1/accounts/{acc1}/workflows 400 {"error":{"code":"invalid_request","message":"code: import of \"os\": workflows cannot import modules (line 1, column 22)","field":"code","line":1,"column":22}}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"dynamic","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async function() {\n  const os = await import('os');\n  return os.exec(['/bin/true']);\n}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf2}","name":"globals","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default () => [typeof std, typeof os, typeof require, typeof process, typeof scriptArgs, typeof print].join(' ')","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe1}","workflowId":"{wf1}","event":"participant.joined","eventId":"{evt1}","status":"error","attempts":1,"durationMs":<ms>,"result":null,"error":{"message":"import of \"os\": workflows cannot import modules","stack":"ReferenceError: import of \"os\": workflows cannot import modules"},"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"participant.joined","data":{"userId":"user-001","roomId":null},"timestamp":"<ts>"}}
POST /v1/accounts/{acc1}/workflows/{wf2}/test 200 {"id":"{exe2}","workflowId":"{wf2}","event":"participant.joined","eventId":"{evt2}","status":"success","attempts":1,"durationMs":<ms>,"result":"undefined undefined undefined undefined undefined undefined","error":null,"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"participant.joined","data":{"userId":"user-001","roomId":null},"timestamp":"<ts>"}}

=== TEST 5: output: a 2 MiB result ends at collab_workflow_max_result, more than 64 KiB of logs at collab_workflow_max_logs
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/workflows {"name":"big result","events":["*"],"code":"export default () => 'x'.repeat(2 * 1024 * 1024)"}
POST /v1/accounts/{acc1}/workflows {"name":"chatty","events":["*"],"code":"export default function() {\n  for (let i = 0; i < 2000; i++) console.log(i, 'y'.repeat(100));\n  return 'done';\n}"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test
pick status,error,#logs,logs.0,result POST /v1/accounts/{acc1}/workflows/{wf2}/test
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"big result","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default () => 'x'.repeat(2 * 1024 * 1024)","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf2}","name":"chatty","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default function() {\n  for (let i = 0; i < 2000; i++) console.log(i, 'y'.repeat(100));\n  return 'done';\n}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe1}","workflowId":"{wf1}","event":"participant.joined","eventId":"{evt1}","status":"error","attempts":1,"durationMs":<ms>,"result":null,"error":{"message":"collab_workflow_max_result: the result is larger than 64k of JSON","stack":null},"logs":[],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"participant.joined","data":{"userId":"user-001","roomId":null},"timestamp":"<ts>"}}
POST /v1/accounts/{acc1}/workflows/{wf2}/test 200 {"status":"error","error":{"message":"collab_workflow_max_logs: the workflow logged more than 64k of messages","stack":null},"#logs":631,"logs.0":{"level":"log","message":"0 yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy","at":"<ts>"},"result":null}

=== TEST 6: fetch: the 51st of collab_workflow_max_fetches 50, a body past collab_workflow_fetch_max_size, a server that never answers within collab_workflow_fetch_timeout
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/workflows {"name":"many","events":["*"],"code":"export default async function() {\n  let n = 0;\n  for (let i = 0; i < 51; i++) {\n    const r = await fetch('http://127.0.0.1:{port2}/ok');\n    n += (await r.text()).length;\n  }\n  return n;\n}"}
POST /v1/accounts/{acc1}/workflows {"name":"big","events":["*"],"code":"export default async function() {\n  const r = await fetch('http://127.0.0.1:{port2}/big');\n  return (await r.text()).length;\n}"}
POST /v1/accounts/{acc1}/workflows {"name":"hang","events":["*"],"code":"export default async function() {\n  const r = await fetch('http://127.0.0.1:{port2}/hook/slow/5000');\n  return r.status;\n}"}
pick status,error,#fetches,fetches.49.status,result POST /v1/accounts/{acc1}/workflows/{wf1}/test
POST /v1/accounts/{acc1}/workflows/{wf2}/test
background POST /v1/accounts/{acc1}/workflows/{wf3}/test
during GET /v1/accounts/{acc1}
join
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"many","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async function() {\n  let n = 0;\n  for (let i = 0; i < 51; i++) {\n    const r = await fetch('http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/ok');\n    n += (await r.text()).length;\n  }\n  return n;\n}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf2}","name":"big","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async function() {\n  const r = await fetch('http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/big');\n  return (await r.text()).length;\n}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf3}","name":"hang","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async function() {\n  const r = await fetch('http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/slow/5000');\n  return r.status;\n}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"status":"error","error":{"message":"collab_workflow_max_fetches: the workflow started more than 50 fetches","stack":null},"#fetches":50,"fetches.49.status":200,"result":null}
POST /v1/accounts/{acc1}/workflows/{wf2}/test 200 {"id":"{exe1}","workflowId":"{wf2}","event":"participant.joined","eventId":"{evt1}","status":"error","attempts":1,"durationMs":<ms>,"result":null,"error":{"message":"collab_workflow_fetch_max_size: the answer of http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/big is larger than 1k","stack":null},"logs":[],"fetches":[{"url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/big","status":200,"ms":<ms>,"error":"collab_workflow_fetch_max_size: the answer of http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/big is larger than 1k"}],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"participant.joined","data":{"userId":"user-001","roomId":null},"timestamp":"<ts>"}}
GET /v1/accounts/{acc1} 200 (answered while the background request waited) {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows/{wf3}/test 200 {"id":"{exe2}","workflowId":"{wf3}","event":"participant.joined","eventId":"{evt2}","status":"error","attempts":1,"durationMs":<ms>,"result":null,"error":{"message":"collab_workflow_fetch_timeout: no complete answer from http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/slow/5000 within 1s","stack":null},"logs":[],"fetches":[{"url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/slow/5000","status":null,"ms":<ms>,"error":"collab_workflow_fetch_timeout: no complete answer from http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/hook/slow/5000 within 1s"}],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"participant.joined","data":{"userId":"user-001","roomId":null},"timestamp":"<ts>"}}

=== TEST 7: fetch of a private address: directly, through DNS, through a redirect; each refused before connecting
--- init
system("perl $ENV{TEST_NGINX_COLLAB_LIB}/dns-responder.pl"
       . " $ENV{TEST_NGINX_COLLAB_DNS_PORT} 127.0.0.2 8 &");
select(undef, undef, undef, 0.5);
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/workflows {"name":"direct","events":["*"],"code":"export default async () => (await fetch('http://127.0.0.2:{port2}/ok')).status"}
POST /v1/accounts/{acc1}/workflows {"name":"metadata","events":["*"],"code":"export default async () => (await fetch('http://169.254.169.254/latest/meta-data/')).status"}
POST /v1/accounts/{acc1}/workflows {"name":"dns","events":["*"],"code":"export default async () => (await fetch('http://rebind.test:{port2}/ok')).status"}
POST /v1/accounts/{acc1}/workflows {"name":"redirect","events":["*"],"code":"export default async () => (await fetch('http://127.0.0.1:{port2}/redirect')).status"}
POST /v1/accounts/{acc1}/workflows {"name":"allowed","events":["*"],"code":"export default async () => (await fetch('http://127.0.0.1:{port2}/ok')).status"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test
POST /v1/accounts/{acc1}/workflows/{wf2}/test
POST /v1/accounts/{acc1}/workflows/{wf3}/test
POST /v1/accounts/{acc1}/workflows/{wf4}/test
POST /v1/accounts/{acc1}/workflows/{wf5}/test
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"direct","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async () => (await fetch('http://127.0.0.2:$TEST_NGINX_COLLAB_PORT2/ok')).status","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf2}","name":"metadata","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async () => (await fetch('http://169.254.169.254/latest/meta-data/')).status","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf3}","name":"dns","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async () => (await fetch('http://rebind.test:$TEST_NGINX_COLLAB_PORT2/ok')).status","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf4}","name":"redirect","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async () => (await fetch('http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/redirect')).status","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf5}","name":"allowed","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async () => (await fetch('http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/ok')).status","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe1}","workflowId":"{wf1}","event":"participant.joined","eventId":"{evt1}","status":"error","attempts":1,"durationMs":<ms>,"result":null,"error":{"message":"fetch refused: http://127.0.0.2:$TEST_NGINX_COLLAB_PORT2/ok: the address is loopback (collab_workflow_allow_private)","stack":"TypeError: fetch refused: http://127.0.0.2:$TEST_NGINX_COLLAB_PORT2/ok: the address is loopback (collab_workflow_allow_private)"},"logs":[],"fetches":[{"url":"http://127.0.0.2:$TEST_NGINX_COLLAB_PORT2/ok","status":null,"ms":<ms>,"error":"fetch refused: http://127.0.0.2:$TEST_NGINX_COLLAB_PORT2/ok: the address is loopback (collab_workflow_allow_private)"}],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"participant.joined","data":{"userId":"user-001","roomId":null},"timestamp":"<ts>"}}
POST /v1/accounts/{acc1}/workflows/{wf2}/test 200 {"id":"{exe2}","workflowId":"{wf2}","event":"participant.joined","eventId":"{evt2}","status":"error","attempts":1,"durationMs":<ms>,"result":null,"error":{"message":"fetch refused: http://169.254.169.254/latest/meta-data/: the address is link-local (collab_workflow_allow_private)","stack":"TypeError: fetch refused: http://169.254.169.254/latest/meta-data/: the address is link-local (collab_workflow_allow_private)"},"logs":[],"fetches":[{"url":"http://169.254.169.254/latest/meta-data/","status":null,"ms":<ms>,"error":"fetch refused: http://169.254.169.254/latest/meta-data/: the address is link-local (collab_workflow_allow_private)"}],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"participant.joined","data":{"userId":"user-001","roomId":null},"timestamp":"<ts>"}}
POST /v1/accounts/{acc1}/workflows/{wf3}/test 200 {"id":"{exe3}","workflowId":"{wf3}","event":"participant.joined","eventId":"{evt3}","status":"error","attempts":1,"durationMs":<ms>,"result":null,"error":{"message":"fetch refused: http://rebind.test:$TEST_NGINX_COLLAB_PORT2/ok: the host resolves to a loopback address (collab_workflow_allow_private)","stack":"TypeError: fetch refused: http://rebind.test:$TEST_NGINX_COLLAB_PORT2/ok: the host resolves to a loopback address (collab_workflow_allow_private)"},"logs":[],"fetches":[{"url":"http://rebind.test:$TEST_NGINX_COLLAB_PORT2/ok","status":null,"ms":<ms>,"error":"fetch refused: http://rebind.test:$TEST_NGINX_COLLAB_PORT2/ok: the host resolves to a loopback address (collab_workflow_allow_private)"}],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"participant.joined","data":{"userId":"user-001","roomId":null},"timestamp":"<ts>"}}
POST /v1/accounts/{acc1}/workflows/{wf4}/test 200 {"id":"{exe4}","workflowId":"{wf4}","event":"participant.joined","eventId":"{evt4}","status":"error","attempts":1,"durationMs":<ms>,"result":null,"error":{"message":"fetch refused: http://127.0.0.2:$TEST_NGINX_COLLAB_PORT2/ok: the address is loopback (collab_workflow_allow_private)","stack":"TypeError: fetch refused: http://127.0.0.2:$TEST_NGINX_COLLAB_PORT2/ok: the address is loopback (collab_workflow_allow_private)"},"logs":[],"fetches":[{"url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/redirect","status":null,"ms":<ms>,"error":"fetch refused: http://127.0.0.2:$TEST_NGINX_COLLAB_PORT2/ok: the address is loopback (collab_workflow_allow_private)"}],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"participant.joined","data":{"userId":"user-001","roomId":null},"timestamp":"<ts>"}}
POST /v1/accounts/{acc1}/workflows/{wf5}/test 200 {"id":"{exe5}","workflowId":"{wf5}","event":"participant.joined","eventId":"{evt5}","status":"success","attempts":1,"durationMs":<ms>,"result":200,"error":null,"logs":[],"fetches":[{"url":"http://127.0.0.1:$TEST_NGINX_COLLAB_PORT2/ok","status":200,"ms":<ms>}],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"participant.joined","data":{"userId":"user-001","roomId":null},"timestamp":"<ts>"}}

