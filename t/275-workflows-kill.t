# kill -9 of nginx (master and workers) while executions of 20 events
# are pending or running loses none: the next nginx, on the same database,
# runs what was pending at once and what the dead workers had claimed once
# their leases end (collab_workflow_timeout 3s + 10 s here; the second
# block waits for every one to finish).  The first block counts the
# executions not yet finished just before the kill; the second checks
# that there were some.

use lib 't/inc';
use CollabTest;
use File::Temp qw(tempdir);
use POSIX ();
use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_COLLAB_KILL_DB} = tempdir(CLEANUP => 1) . "/collab.db";

our $HttpConfig = $CollabTest::HttpConfig;
$HttpConfig =~ s{logs/collab\.db}{$ENV{TEST_NGINX_COLLAB_KILL_DB}};
$HttpConfig .= "    collab_workflow_timeout 3s;\n";

workers(2);
master_on();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: 20 events for a slow workflow, then kill -9 of every nginx process
--- http_config eval: $::HttpConfig
--- init
my $db = $ENV{TEST_NGINX_COLLAB_KILL_DB};
system("sqlite3", $db, ".timeout 5000",
       "INSERT INTO accounts (id, name, created_at)"
       . " VALUES ('acc_KillKillKillKillKill01', 'K', 0)",
       "INSERT INTO rooms (id, account_id, name, metadata, created_at,"
       . " updated_at) VALUES ('33333333-3333-4444-8555-666666666666',"
       . " 'acc_KillKillKillKillKill01', 'r', '{}', 0, 0)") == 0
    or die "sqlite3 failed\n";

# once the steps are done, the executions not yet finished are counted
# (into $db.unfinished, for the second block), then nginx is killed; the
# child leaves with POSIX::_exit, since the test's END blocks would stop
# nginx
my $root = Test::Nginx::Socket::server_root();
my $pidfile = "$root/logs/received.jsonl.pid";
my $master = "$root/logs/nginx.pid";
unlink $pidfile, "$db.unfinished";
if (fork() == 0) {
    for (1 .. 200) {
        last if -s $pidfile;
        select(undef, undef, undef, 0.05);
    }
    open my $mh, '<', $master or POSIX::_exit(0);
    my $mpid = <$mh>;
    chomp $mpid;
    my @workers = split /\s+/, `pgrep -P $mpid`;
    my $unfinished = '';
    if (open my $q, '-|', 'sqlite3', $db, '.timeout 5000',
             "SELECT count(*) FROM executions"
             . " WHERE status IN ('pending', 'running')")
    {
        $unfinished = <$q> // '';
        close $q;
    }
    kill 'KILL', $mpid, @workers;
    if (open my $out, '>', "$db.unfinished.new") {
        print $out $unfinished;
        close $out;
        rename "$db.unfinished.new", "$db.unfinished";
    }
    POSIX::_exit(0);
}
--- request
POST /t
as admin
POST /v1/accounts/acc_KillKillKillKillKill01/workflows {"name":"slow","events":["user.created"],"code":"export default async (e) => { await new Promise((r) => setTimeout(r, 2000)); return e.data.userId; }"}
repeat 10 POST /v1/accounts/acc_KillKillKillKillKill01/rooms/33333333-3333-4444-8555-666666666666/users {"userId":"a{i}"}
repeat 10 POST /v1/accounts/acc_KillKillKillKillKill01/rooms/33333333-3333-4444-8555-666666666666/users {"userId":"b{i}"}
sleep 300
pidfile
--- response_body
POST /v1/accounts/acc_KillKillKillKillKill01/workflows 201 {"id":"{wf1}","name":"slow","events":["user.created"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async (e) => { await new Promise((r) => setTimeout(r, 2000)); return e.data.userId; }","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/acc_KillKillKillKillKill01/rooms/33333333-3333-4444-8555-666666666666/users x10 201:10
POST /v1/accounts/acc_KillKillKillKillKill01/rooms/33333333-3333-4444-8555-666666666666/users x10 201:10
--- wait: 1.5
--- no_error_log
[emerg]

=== TEST 2: the next nginx on the same database runs every one of them to the end
--- http_config eval: $::HttpConfig
--- init
my $file = "$ENV{TEST_NGINX_COLLAB_KILL_DB}.unfinished";
my $unfinished = '';
if (open my $fh, '<', $file) {
    $unfinished = <$fh> // '';
    chomp $unfinished;
}
Test::More::ok($unfinished =~ /^[0-9]+$/ && $unfinished > 0,
               "t/275-workflows-kill.t TEST 2: executions were unfinished"
               . " at the kill ('$unfinished' of 20)");
--- request
POST /t
as admin
GET /v1/accounts/acc_KillKillKillKillKill01/workflows
count settled 20 GET /v1/accounts/acc_KillKillKillKillKill01/workflows/{wf1}/executions?limit=100
count GET /v1/accounts/acc_KillKillKillKillKill01/workflows/{wf1}/executions?status=success&limit=100
--- response_body_like chomp
^GET /v1/accounts/acc_KillKillKillKillKill01/workflows 200 .*
GET /v1/accounts/acc_KillKillKillKillKill01/workflows/\{wf1\}/executions\?limit=100 200 20 items, last page
GET /v1/accounts/acc_KillKillKillKillKill01/workflows/\{wf1\}/executions\?status=success&limit=100 200 20 items, last page$
--- timeout: 45
