# The runners of a worker: started in init_process, one per worker by
# default; a runner killed in the middle of an execution is reaped by the
# worker itself (no "unknown process" from nginx), started again, and the
# execution runs again on the new one; the runners end with their worker.

use lib 't/inc';
use CollabTest;
use File::Temp qw(tempdir);
use POSIX ();
use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_COLLAB_RUNNER_PIDS} = tempdir(CLEANUP => 1) . "/pids";

no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("timeout", 30) if !defined $block->timeout;
});

# the runners that the error log says were started, in order
sub runner_pids {
    my ($log) = @_;
    my @pids;

    open my $fh, '<', $log or return ();
    while (<$fh>) {
        push @pids, $1 if /workflow runner (\d+) started/;
    }
    close $fh;

    return @pids;
}

run_tests();

__DATA__

=== TEST 1: a runner killed in the middle of an execution: the worker reaps it and starts another, and the execution runs again there
--- init
# once the steps say so ("pidfile"), the runner is killed; the child
# leaves with POSIX::_exit, since the test's END blocks would stop nginx
my $root = Test::Nginx::Socket::server_root();
my $marker = "$root/logs/received.jsonl.pid";
unlink $marker;
if (fork() == 0) {
    for (1 .. 200) {
        last if -s $marker;
        select(undef, undef, undef, 0.05);
    }
    my @pids = main::runner_pids("$root/logs/error.log");
    kill 'KILL', $pids[-1] if @pids;
    if (open my $out, '>', $ENV{TEST_NGINX_COLLAB_RUNNER_PIDS}) {
        print $out "$pids[-1]\n";
        close $out;
    }
    POSIX::_exit(0);
}
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"one"}
POST /v1/accounts/{acc1}/workflows {"name":"slow","events":["user.created"],"code":"export default async (e) => { await new Promise((r) => setTimeout(r, 1500)); console.log('finished', e.data.userId); return 'done'; }"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"a"}
sleep 500
pidfile
sleep 1000
settled 1 GET /v1/accounts/{acc1}/workflows/{wf1}/executions
POST /v1/accounts/{acc1}/workflows/{wf1}/test {"event":{"event":"user.created","data":{"userId":"b"}}}
--- error_log eval
[qr/workflow runner \d+ exited on signal 9/,
 qr/execution exe_\w+ runs again \(attempt 2\)/,
 qr/workflow runner \d+ started/]
--- no_error_log
unknown process
[alert]
[crit]
[emerg]
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"one","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"slow","events":["user.created"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async (e) => { await new Promise((r) => setTimeout(r, 1500)); console.log('finished', e.data.userId); return 'done'; }","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"a","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions 200 {"data":[{"id":"{exe1}","workflowId":"{wf1}","event":"user.created","eventId":"{evt1}","status":"success","attempts":2,"durationMs":<ms>,"result":"done","error":null,"logs":[{"level":"log","message":"finished a","at":"<ts>"}],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"}],"nextCursor":null}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe2}","workflowId":"{wf1}","event":"user.created","eventId":"{evt2}","status":"success","attempts":1,"durationMs":<ms>,"result":"done","error":null,"logs":[{"level":"log","message":"finished b","at":"<ts>"}],"fetches":[],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"user.created","data":{"userId":"b"},"timestamp":"<ts>"}}

=== TEST 2: the runner of the previous nginx ended with it
--- init
my $pid = '';
if (open my $fh, '<', $ENV{TEST_NGINX_COLLAB_RUNNER_PIDS}) {
    $pid = <$fh> // '';
    chomp $pid;
}
Test::More::ok($pid =~ /^\d+$/ && !kill(0, $pid),
               "t/265-workflows-runner.t TEST 2: the runner killed in"
               . " TEST 1 is gone ($pid)");
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}

=== TEST 3: a runner that cannot start: creating a workflow answers 503, and the worker keeps trying
--- http_config eval
$CollabTest::HttpConfig . "    collab_workflow_runner /bin/false;\n"
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
sleep 300
POST /v1/accounts/{acc1}/workflows {"name":"x","events":["*"],"code":"export default 1"}
GET /v1/accounts/{acc1}/workflows
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 503 {"error":{"code":"unavailable","message":"workflows cannot be compiled now: no workflow runner is available"}}
GET /v1/accounts/{acc1}/workflows 200 {"data":[],"nextCursor":null}
--- error_log eval
qr/workflow runner \d+ exited with code 1/
--- no_error_log
unknown process
[alert]
[crit]
[emerg]
