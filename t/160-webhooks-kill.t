# kill -9 of every worker in the middle of a burst loses no delivery: the
# next nginx (the second block, on the same database) sends what was
# pending, and what the dead workers had claimed once their leases run out
# (16 s here: twice the 2 s timeout, the connect and resolver timeouts
# and 10 s; the second block waits 20 s).
# The receiver is a slow server outside nginx (t/lib/slow-receiver.pl), so
# that deliveries are in flight when the workers die; the first block counts
# the pending ones in the database just before the kill, and the second
# checks that there were some.

use lib 't/inc';
use CollabTest;
use File::Temp qw(tempdir);
use POSIX ();
use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_COLLAB_SLOW_PORT} ||= ($ENV{TEST_NGINX_PORT} || 1984) + 4;
$ENV{TEST_NGINX_COLLAB_KILL_DB} = tempdir(CLEANUP => 1) . "/collab.db";

our $HttpConfig = $CollabTest::HttpConfig;
$HttpConfig =~ s{logs/collab\.db}{$ENV{TEST_NGINX_COLLAB_KILL_DB}};
$HttpConfig .= <<'_EOC_';
    collab_webhook_allow_private    on;
    collab_webhook_retry_schedule   1s 1s;
    collab_webhook_timeout          2s;
    collab_webhook_connect_timeout  1s;
    collab_webhook_concurrency      4;
    resolver_timeout                1s;
_EOC_

our $Config = <<'_EOC_';
    client_body_buffer_size  64k;
    location /v1/ {
        collab_api;
    }
    location = /t {
        set $collab_admin_token_file $TEST_NGINX_COLLAB_LIB/admin.token;
        set $collab_port2 $TEST_NGINX_COLLAB_SLOW_PORT;
        root logs;
        set $collab_received_file $realpath_root/received.jsonl;
        js_content collab.steps;
    }
_EOC_

our ($SlowPid, $SlowOut);

# Starts t/lib/slow-receiver.pl (from the first block's "--- init") and
# waits until it listens.  It exits by itself after 40 s; one left by an
# interrupted run holds the port until then, and is waited for.
sub start_slow_receiver {
    my $port = $ENV{TEST_NGINX_COLLAB_SLOW_PORT};
    my $give_up = time + 45;

    while (1) {
        $SlowPid = open $SlowOut, '-|', $^X,
                        "$ENV{TEST_NGINX_COLLAB_LIB}/slow-receiver.pl",
                        $port, 400, 40
            or die "cannot start slow-receiver.pl: $!\n";

        my $line = <$SlowOut>;
        return if defined $line && $line eq "listening\n";

        close $SlowOut;
        undef $SlowPid;
        die "slow-receiver.pl did not start\n" if time > $give_up;
        sleep 1;
    }
}

sub stop_slow_receiver {
    return if !defined $SlowPid;

    kill 'TERM', $SlowPid;
    close $SlowOut;
    undef $SlowPid;
}

add_cleanup_handler(sub { stop_slow_receiver() });

workers(2);
master_on();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a burst of events, then kill -9 of every worker
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
my $root = Test::Nginx::Socket::server_root();
my $db = $ENV{TEST_NGINX_COLLAB_KILL_DB};
system("sqlite3", $db, ".timeout 5000",
       "INSERT INTO accounts (id, name, created_at)"
       . " VALUES ('acc_KillKillKillKillKill00', 'K', 0)",
       "INSERT INTO rooms (id, account_id, name, metadata, created_at,"
       . " updated_at) VALUES ('22222222-3333-4444-8555-666666666666',"
       . " 'acc_KillKillKillKillKill00', 'r', '{}', 0, 0)") == 0
    or die "sqlite3 failed\n";
main::start_slow_receiver();

# once the steps are done, the deliveries still pending are counted (into
# $db.pending, for the second block), then every worker is killed: the
# child leaves with POSIX::_exit, since the test's END blocks would stop
# nginx
my $pidfile = "$root/logs/received.jsonl.pid";
my $master = "$root/logs/nginx.pid";
unlink $pidfile, "$db.pending";
if (fork() == 0) {
    for (1 .. 200) {
        last if -s $pidfile;
        select(undef, undef, undef, 0.05);
    }
    select(undef, undef, undef, 0.5);
    open my $mh, '<', $master or POSIX::_exit(0);
    my $mpid = <$mh>;
    chomp $mpid;
    my @workers = split /\s+/, `pgrep -P $mpid`;
    my $pending = '';
    if (open my $q, '-|', 'sqlite3', $db, '.timeout 5000',
             "SELECT count(*) FROM deliveries WHERE status = 'pending'")
    {
        $pending = <$q> // '';
        close $q;
    }
    kill 'KILL', @workers;
    if (open my $out, '>', "$db.pending.new") {
        print $out $pending;
        close $out;
        rename "$db.pending.new", "$db.pending";
    }
    POSIX::_exit(0);
}
--- request
POST /t
as admin
POST /v1/accounts/acc_KillKillKillKillKill00/webhooks {"url":"http://127.0.0.1:{port2}/","events":["user.created"]}
repeat 10 POST /v1/accounts/acc_KillKillKillKillKill00/rooms/22222222-3333-4444-8555-666666666666/users {}
repeat 10 POST /v1/accounts/acc_KillKillKillKillKill00/rooms/22222222-3333-4444-8555-666666666666/users {}
pidfile
--- response_body
POST /v1/accounts/acc_KillKillKillKillKill00/webhooks 201 {"id":"{wh1}","url":"http://127.0.0.1:$TEST_NGINX_COLLAB_SLOW_PORT/","events":["user.created"],"roomId":null,"description":null,"enabled":true,"secret":"{secret1}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/acc_KillKillKillKillKill00/rooms/22222222-3333-4444-8555-666666666666/users x10 201:10
POST /v1/accounts/acc_KillKillKillKillKill00/rooms/22222222-3333-4444-8555-666666666666/users x10 201:10
--- wait: 1.5
--- error_log
exited on signal 9
--- no_error_log
[emerg]

=== TEST 2: the next nginx on the same database delivers every one of them
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
my $file = "$ENV{TEST_NGINX_COLLAB_KILL_DB}.pending";
my $pending = '';
if (open my $fh, '<', $file) {
    $pending = <$fh> // '';
    chomp $pending;
}
Test::More::ok($pending =~ /^[0-9]+$/ && $pending > 0,
               "t/160-webhooks-kill.t TEST 2: deliveries were pending"
               . " at the kill ('$pending' of 20)");
--- request
POST /t
as admin
count GET /v1/accounts/acc_KillKillKillKillKill00/webhooks
GET /v1/accounts/acc_KillKillKillKillKill00/webhooks
sleep 20000
count GET /v1/accounts/acc_KillKillKillKillKill00/webhooks/{wh1}/deliveries?status=success&limit=100
count GET /v1/accounts/acc_KillKillKillKillKill00/webhooks/{wh1}/deliveries?status=pending
--- response_body_like chomp
^GET /v1/accounts/acc_KillKillKillKillKill00/webhooks 200 1 items, last page
GET /v1/accounts/acc_KillKillKillKillKill00/webhooks 200 .*
GET /v1/accounts/acc_KillKillKillKillKill00/webhooks/\{wh1\}/deliveries\?status=success&limit=100 200 20 items, last page
GET /v1/accounts/acc_KillKillKillKillKill00/webhooks/\{wh1\}/deliveries\?status=pending 200 0 items, last page$
--- timeout: 40
