# Metrics of presence and workflows, by value: the open presence streams
# (each worker counts its own, a worker killed with -9 leaves nothing
# behind) and the participants of every room; workflow executions by
# status, their durations, those pending, and the runners started again
# after one was killed.  Two workers count into the same zone.
#
# Presence scenarios run from "--- init" (t/inc/CollabPresence.pm, whose
# "metrics" step waits for a sample to reach its value); the workflow
# scenario runs through /t (t/lib/collab.js), and the filters between its
# requests add executions to the database, kill a runner and wait.

use lib 't/inc';
use CollabTest;
use CollabMetrics;
use CollabPresence;
use Test::Nginx::Socket 'no_plan';

workers(2);
master_on();
no_shuffle();
check_accum_error_log();

our $HttpConfig = CollabPresence::http_config(0, <<'_EOC_'
    collab_workflow_timeout    1s;

_EOC_
    . $CollabPresence::Port2);

our $Metrics = <<'_EOC_';
    location = /metrics {
        collab_metrics;
    }
_EOC_

our $Presence = $CollabPresence::Config . $Metrics;
our $Workflows = $CollabTest::Config . $Metrics;

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", $HttpConfig)
        if !defined $block->http_config;

    if (!defined $block->request) {
        $block->set_value("request", "GET /transcript");
        $block->set_value("config", $Presence) if !defined $block->config;

    } elsif (!defined $block->config) {
        $block->set_value("config", $Workflows);
    }

    $block->set_value("timeout", 40) if !defined $block->timeout;
});

sub sqlite {
    my $db = Test::Nginx::Socket::server_root() . '/logs/collab.db';
    system("sqlite3", $db, ".timeout 5000", @_) == 0
        or die "sqlite3 failed\n";
}

# two executions of the disabled workflow "later", as if they had been
# recorded while it was enabled: they wait until it is enabled again
sub pending_later {
    sqlite("INSERT INTO executions (id, workflow_id, account_id, room_id,"
           . " event_id, event, payload, status, attempts, next_at,"
           . " created_at)"
           . " SELECT 'exe_MetricsPending0000000' || n, id, account_id,"
           . " NULL, 'evt_MetricsPending0000000' || n, 'user.deleted',"
           . " '{\"event\":\"user.deleted\",\"data\":{\"userId\":\"u\","
           . "\"roomId\":null},\"timestamp\":\"2026-01-01T00:00:00.000Z\"}',"
           . " 'pending', 0, 0, CAST(strftime('%s', 'now') AS INTEGER) * 1000"
           . " FROM workflows, (SELECT 1 AS n UNION ALL SELECT 2)"
           . " WHERE name = 'later'");
}

# the samples of the workflow metrics that do not depend on timing
our @Workflow = ('collab_workflow_executions_total',
                 'collab_workflow_execution_duration_seconds_bucket{le="+Inf"}',
                 'collab_workflow_execution_duration_seconds_count',
                 'collab_workflow_executions_pending ',
                 'collab_workflow_runner_restarts_total ');

sub children {
    my $pid = shift;
    return grep { /^\d+$/ } split /\s+/, `ps -o pid= --ppid $pid`;
}

# kill -9 of one workflow runner (a child of a worker), then the wait
# until the worker has started another
sub kill_runner {
    my $file = Test::Nginx::Socket::server_root() . '/logs/nginx.pid';
    open(my $fh, '<', $file) or die "$file: $!\n";
    my $master = <$fh>;
    chomp $master;
    close $fh;

    my ($runner) = map { children($_) } children($master);
    die "no workflow runner\n" if !$runner;

    kill 'KILL', $runner;

    return CollabPresence::metric('collab_workflow_runner_restarts_total', 1)
           . "\n";
}

run_tests();

__DATA__

=== TEST 1: open streams over two workers and the participants of two rooms, until all have gone
--- init
CollabPresence::run(<<'_EOS_');
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r1"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-002"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-002/tokens {}
POST /v1/accounts/{acc1}/rooms {"name":"r2"}
POST /v1/accounts/{acc1}/rooms/{room2}/users {"userId":"user-003"}
POST /v1/accounts/{acc1}/rooms/{room2}/users/user-003/tokens {}
metrics collab_presence_connections 0
metrics collab_presence_participants 0
port second
open A {ctok1} in {acc1} {room1}
open B {ctok1} in {acc1} {room1} beside A
open C {ctok2} in {acc1} {room1}
open D {ctok3}
presence 1 1
metrics collab_presence_connections 4
metrics collab_presence_participants 3
close A
metrics collab_presence_connections 3
metrics collab_presence_participants 3
close B
metrics collab_presence_connections 2
metrics collab_presence_participants 2
close D
presence 0
metrics collab_presence_connections 1
metrics collab_presence_participants 1
close C
metrics collab_presence_connections 0
metrics collab_presence_participants 0
_EOS_
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r1","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-002","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 201 {"token":"{ctok1}","expiresAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-002/tokens 201 {"token":"{ctok2}","expiresAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room2}","name":"r2","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room2}/users 201 {"userId":"user-003","roomId":"{room2}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room2}/users/user-003/tokens 201 {"token":"{ctok3}","expiresAt":"<ts>"}
collab_presence_connections 0
collab_presence_participants 0
open A 200
open B 200
open C 200
open D 200
presence: {"data":[{"userId":"user-003","since":"<ts>","connections":1,"heartbeatUntil":null}]}
collab_presence_connections 4
collab_presence_participants 3
collab_presence_connections 3
collab_presence_participants 3
collab_presence_connections 2
collab_presence_participants 2
presence: {"data":[]}
collab_presence_connections 1
collab_presence_participants 1
collab_presence_connections 0
collab_presence_participants 0



=== TEST 2: kill -9 of a worker with an open stream: its count goes with it, its participant leaves
--- error_log
[alert]
exited on signal 9
--- init
CollabPresence::run(<<'_EOS_');
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"watcher"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {}
POST /v1/accounts/{acc1}/rooms/{room1}/users/watcher/tokens {}
port second
open W {ctok2}
open A {ctok1} beside W
presence 2 2
metrics collab_presence_connections 2
metrics collab_presence_participants 2
kill A
eof A
metrics collab_presence_connections 1
presence 1
metrics collab_presence_participants 1
close W
metrics collab_presence_connections 0
metrics collab_presence_participants 0
_EOS_
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"watcher","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 201 {"token":"{ctok1}","expiresAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/watcher/tokens 201 {"token":"{ctok2}","expiresAt":"<ts>"}
open W 200
open A 200
presence: {"data":[{"userId":"watcher","since":"<ts>","connections":1,"heartbeatUntil":null},{"userId":"user-001","since":"<ts>","connections":1,"heartbeatUntil":null}]}
collab_presence_connections 2
collab_presence_participants 2
A: closed by the server
collab_presence_connections 1
presence: {"data":[{"userId":"watcher","since":"<ts>","connections":1,"heartbeatUntil":null}]}
collab_presence_participants 1
collab_presence_connections 0
collab_presence_participants 0



=== TEST 3: executions by status and their durations, pending ones, a runner killed and started again
Four test runs end as success (two), error and timeout; two executions
of a disabled workflow wait, and run once it is enabled.
--- init
main::sqlite("INSERT INTO accounts (id, name, created_at)"
             . " VALUES ('acc_MetricsWorkflowsAcct01', 'Acme', 0)");
--- request eval
["POST /t
as admin
pick id,name POST /v1/accounts/acc_MetricsWorkflowsAcct01/workflows {\"name\":\"ok\",\"events\":[\"user.deleted\"],\"code\":\"export default () => 1\"}
pick id,name POST /v1/accounts/acc_MetricsWorkflowsAcct01/workflows {\"name\":\"fail\",\"events\":[\"user.deleted\"],\"code\":\"export default () => { throw new Error('no'); }\"}
pick id,name POST /v1/accounts/acc_MetricsWorkflowsAcct01/workflows {\"name\":\"spin\",\"events\":[\"user.deleted\"],\"code\":\"export default function () { for (;;) {} }\"}
pick id,name,enabled POST /v1/accounts/acc_MetricsWorkflowsAcct01/workflows {\"name\":\"later\",\"events\":[\"user.deleted\"],\"enabled\":false,\"code\":\"export default () => 2\"}
pick status POST /v1/accounts/acc_MetricsWorkflowsAcct01/workflows/{wf1}/test
pick status POST /v1/accounts/acc_MetricsWorkflowsAcct01/workflows/{wf1}/test
pick status POST /v1/accounts/acc_MetricsWorkflowsAcct01/workflows/{wf2}/test
pick status POST /v1/accounts/acc_MetricsWorkflowsAcct01/workflows/{wf3}/test
", "GET /metrics", "POST /t
as admin
pick data.0.id,data.0.name GET /v1/accounts/acc_MetricsWorkflowsAcct01/workflows
pick enabled PATCH /v1/accounts/acc_MetricsWorkflowsAcct01/workflows/{wf1} {\"enabled\":true}
count settled 2 GET /v1/accounts/acc_MetricsWorkflowsAcct01/workflows/{wf1}/executions
count GET /v1/accounts/acc_MetricsWorkflowsAcct01/workflows/{wf1}/executions?status=success
", "GET /metrics", "GET /metrics"]
--- response_body_filters eval
[[sub { main::pending_later(); $_[0] . main::kill_runner() }],
 [main::samples(@main::Workflow)],
 [sub { $_[0] }],
 [main::samples(@main::Workflow)],
 [\&main::promtool]]
--- response_body eval
["POST /v1/accounts/acc_MetricsWorkflowsAcct01/workflows 201 {\"id\":\"{wf1}\",\"name\":\"ok\"}
POST /v1/accounts/acc_MetricsWorkflowsAcct01/workflows 201 {\"id\":\"{wf2}\",\"name\":\"fail\"}
POST /v1/accounts/acc_MetricsWorkflowsAcct01/workflows 201 {\"id\":\"{wf3}\",\"name\":\"spin\"}
POST /v1/accounts/acc_MetricsWorkflowsAcct01/workflows 201 {\"id\":\"{wf4}\",\"name\":\"later\",\"enabled\":false}
POST /v1/accounts/acc_MetricsWorkflowsAcct01/workflows/{wf1}/test 200 {\"status\":\"success\"}
POST /v1/accounts/acc_MetricsWorkflowsAcct01/workflows/{wf1}/test 200 {\"status\":\"success\"}
POST /v1/accounts/acc_MetricsWorkflowsAcct01/workflows/{wf2}/test 200 {\"status\":\"error\"}
POST /v1/accounts/acc_MetricsWorkflowsAcct01/workflows/{wf3}/test 200 {\"status\":\"timeout\"}
collab_workflow_runner_restarts_total 1
",
q{collab_workflow_executions_total{status="success"} 2
collab_workflow_executions_total{status="error"} 1
collab_workflow_executions_total{status="timeout"} 1
collab_workflow_execution_duration_seconds_bucket{le="+Inf"} 4
collab_workflow_execution_duration_seconds_count 4
collab_workflow_executions_pending 2
collab_workflow_runner_restarts_total 1
},
"GET /v1/accounts/acc_MetricsWorkflowsAcct01/workflows 200 {\"data.0.id\":\"{wf1}\",\"data.0.name\":\"later\"}
PATCH /v1/accounts/acc_MetricsWorkflowsAcct01/workflows/{wf1} 200 {\"enabled\":true}
GET /v1/accounts/acc_MetricsWorkflowsAcct01/workflows/{wf1}/executions 200 2 items, last page
GET /v1/accounts/acc_MetricsWorkflowsAcct01/workflows/{wf1}/executions?status=success 200 2 items, last page
",
q{collab_workflow_executions_total{status="success"} 4
collab_workflow_executions_total{status="error"} 1
collab_workflow_executions_total{status="timeout"} 1
collab_workflow_execution_duration_seconds_bucket{le="+Inf"} 6
collab_workflow_execution_duration_seconds_count 6
collab_workflow_executions_pending 0
collab_workflow_runner_restarts_total 1
},
"promtool: ok\n"]
--- error_log
exited on signal 9
--- no_error_log
[alert]
[crit]
[emerg]
