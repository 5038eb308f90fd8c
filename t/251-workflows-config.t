# The collab_workflow_* directives: a wrong value stops nginx ("nginx -t"
# as well) with a message naming the directive and the value; the values
# that are right are taken.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: collab_workflow_runners 0
--- http_config
    collab_database logs/collab.db;
    collab_workflow_runners 0;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_workflow_runners: invalid value "0", must be a number from 1 to 64

=== TEST 2: collab_workflow_runners many
--- http_config
    collab_database logs/collab.db;
    collab_workflow_runners many;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_workflow_runners: invalid value "many", must be a number from 1 to 64

=== TEST 3: collab_workflow_concurrency 0
--- http_config
    collab_database logs/collab.db;
    collab_workflow_concurrency 0;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_workflow_concurrency: invalid value "0", must be a number from 1 to 100000

=== TEST 4: collab_workflow_timeout soon
--- http_config
    collab_database logs/collab.db;
    collab_workflow_timeout soon;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_workflow_timeout: invalid value "soon", must be a time from 1ms to 24h

=== TEST 5: collab_workflow_timeout 2d
--- http_config
    collab_database logs/collab.db;
    collab_workflow_timeout 2d;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_workflow_timeout: invalid value "2d", must be a time from 1ms to 24h

=== TEST 6: collab_workflow_memory 512k
--- http_config
    collab_database logs/collab.db;
    collab_workflow_memory 512k;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_workflow_memory: invalid value "512k", must be a size from 1m to 16g

=== TEST 7: collab_workflow_memory lots
--- http_config
    collab_database logs/collab.db;
    collab_workflow_memory lots;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_workflow_memory: invalid value "lots", must be a size from 1m to 16g

=== TEST 8: collab_workflow_max_fetches -1
--- http_config
    collab_database logs/collab.db;
    collab_workflow_max_fetches -1;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_workflow_max_fetches: invalid value "-1", must be a number from 0 to 100000

=== TEST 9: collab_workflow_fetch_timeout 0
--- http_config
    collab_database logs/collab.db;
    collab_workflow_fetch_timeout 0;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_workflow_fetch_timeout: invalid value "0", must be a time from 1ms to 24h

=== TEST 10: collab_workflow_fetch_max_size 2g
--- http_config
    collab_database logs/collab.db;
    collab_workflow_fetch_max_size 2g;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_workflow_fetch_max_size: invalid value "2g", must be a size from 1 to 1g

=== TEST 11: collab_workflow_max_logs 8
--- http_config
    collab_database logs/collab.db;
    collab_workflow_max_logs 8;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_workflow_max_logs: invalid value "8", must be a size from 16 to 64m

=== TEST 12: collab_workflow_max_result big
--- http_config
    collab_database logs/collab.db;
    collab_workflow_max_result big;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_workflow_max_result: invalid value "big", must be a size from 16 to 64m

=== TEST 13: collab_workflow_allow_private maybe
--- http_config
    collab_database logs/collab.db;
    collab_workflow_allow_private maybe;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
invalid value "maybe" in "collab_workflow_allow_private" directive, it must be "on" or "off"

=== TEST 14: collab_workflow_allow_address 10.0.0.0/99
--- http_config
    collab_database logs/collab.db;
    collab_workflow_allow_address 10.0.0.0/99;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_workflow_allow_address: invalid value "10.0.0.0/99", must be an address or a network (address/bits), 16 at most

=== TEST 15: collab_workflow_runner /nonexistent/collab-runner
--- http_config
    collab_database logs/collab.db;
    collab_workflow_runner /nonexistent/collab-runner;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_workflow_runner: "/nonexistent/collab-runner" is not an executable file

=== TEST 16: collab_workflow_trusted_certificate /nonexistent/ca.pem
--- http_config
    collab_database logs/collab.db;
    collab_workflow_trusted_certificate /nonexistent/ca.pem;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_workflow_trusted_certificate: cannot read "/nonexistent/ca.pem"

=== TEST 17: collab_execution_retention forever
--- http_config
    collab_database logs/collab.db;
    collab_execution_retention forever;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_execution_retention: invalid value "forever", must be a time from 0 (kept forever) to 3650d

=== TEST 18: a directive given twice
--- http_config
    collab_database logs/collab.db;
    collab_workflow_timeout 30s;
    collab_workflow_timeout 40s;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
"collab_workflow_timeout" directive is duplicate

=== TEST 19: every directive with a value in range, and the workflows API answers
--- http_config eval
$CollabTest::HttpConfig . <<'_EOC_';
    collab_workflow_runners              2;
    collab_workflow_concurrency          64;
    collab_workflow_timeout              5s;
    collab_workflow_memory               64m;
    collab_workflow_max_fetches          0;
    collab_workflow_fetch_timeout        500ms;
    collab_workflow_fetch_max_size       16k;
    collab_workflow_max_logs             1k;
    collab_workflow_max_result           1k;
    collab_workflow_allow_private        on;
    collab_workflow_allow_address        127.0.0.1 10.1.0.0/16;
    collab_workflow_trusted_certificate  $TEST_NGINX_COLLAB_LIB/tls/ca.crt;
    collab_execution_retention           7d;
_EOC_
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/workflows {"name":"fetch","events":["*"],"code":"export default async () => (await fetch('http://127.0.0.1:1/')).status"}
pick status,error.message POST /v1/accounts/{acc1}/workflows/{wf1}/test
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"fetch","events":["*"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async () => (await fetch('http://127.0.0.1:1/')).status","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"status":"error","error.message":"collab_workflow_max_fetches: the workflow started more than 0 fetches"}

