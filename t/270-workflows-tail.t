# The tail of a workflow: a Server-Sent Events stream of its executions
# as they finish, whichever worker ran them.  Two workers record events
# and run executions; the tail, held by one of them over HTTP/1.0 by a
# client outside nginx (started by "--- init", told the path by the steps'
# "write"), gets every one of them, and none that finished before it began.

use lib 't/inc';
use CollabTest;
use IO::Socket::INET;
use POSIX ();
use Test::Nginx::Socket 'no_plan';

workers(2);
master_on();
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", $CollabTest::HttpConfig . <<'_EOC_');
    server {
        listen 127.0.0.1:$TEST_NGINX_COLLAB_DNS_PORT reuseport;
        location /v1/ {
            add_header X-Worker $pid always;
            collab_api;
        }
    }
_EOC_

    $block->set_value("timeout", 40);
});

# reads the tail of the path in logs/tail.url into logs/tail.out, for the
# given seconds (a child process; it leaves with POSIX::_exit); the request
# line and the answer's head go to logs/tail.out.head, for the contract
# check of t/910-openapi.t
sub tail_client {
    my ($seconds) = @_;
    my $logs = Test::Nginx::Socket::server_root() . "/logs";

    unlink "$logs/tail.url", "$logs/tail.out", "$logs/tail.out.head";

    return if fork() != 0;

    for (1 .. 400) {
        last if -s "$logs/tail.url";
        select(undef, undef, undef, 0.05);
    }

    open my $fh, '<', "$logs/tail.url" or POSIX::_exit(0);
    my $path = <$fh>;
    close $fh;

    open $fh, '<', "$ENV{TEST_NGINX_COLLAB_LIB}/admin.token"
        or POSIX::_exit(0);
    my $token = <$fh>;
    close $fh;
    chomp $token;

    my $sock = IO::Socket::INET->new(
                   PeerAddr => "127.0.0.1:$ENV{TEST_NGINX_COLLAB_DNS_PORT}")
        or POSIX::_exit(0);

    print $sock "GET $path HTTP/1.0\r\nHost: localhost\r\n"
                . "Authorization: Bearer $token\r\n\r\n";

    open my $out, '>', "$logs/tail.out" or POSIX::_exit(0);
    $out->autoflush(1);

    my $until = time + $seconds;
    my $head = '';
    my $body = 0;

    while (time < $until) {
        my $rin = '';
        vec($rin, fileno($sock), 1) = 1;
        next unless select(my $rout = $rin, undef, undef, 0.2);

        my $n = sysread($sock, my $buf, 65536);
        last if !$n;

        if (!$body) {
            $head .= $buf;
            my $end = index($head, "\r\n\r\n");
            next if $end < 0;
            $buf = substr($head, $end + 4);
            $body = 1;

            if (open my $h, '>', "$logs/tail.out.head") {
                print $h "GET $path\n", substr($head, 0, $end + 2);
                close $h;
            }
        }

        print $out $buf;
    }

    POSIX::_exit(0);
}

run_tests();

__DATA__

=== TEST 1: events recorded by both workers: the tail, held by one of them, gets each execution as it finishes, and none from before it began
--- init
main::tail_client(15);
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/workflows {"name":"tail me","events":["user.created"],"code":"export default (e) => e.data.userId"}
POST /v1/accounts/{acc1}/workflows {"name":"another","events":["user.created"],"code":"export default () => 'not this one'"}
pick status,result POST /v1/accounts/{acc1}/workflows/{wf1}/test {"event":{"event":"user.created","data":{"userId":"before"}}}
write tail.url /v1/accounts/{acc1}/workflows/{wf1}/tail
sleep 1000
port third
repeat 10 POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"u{i}"}
repeat 10 POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"v{i}"}
port first
count settled 21 GET /v1/accounts/{acc1}/workflows/{wf1}/executions?limit=100
count settled 20 GET /v1/accounts/{acc1}/workflows/{wf2}/executions?limit=100
sleep 1000
sse tail.out
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"tail me","events":["user.created"],"roomId":null,"language":"javascript","enabled":true,"code":"export default (e) => e.data.userId","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf2}","name":"another","events":["user.created"],"roomId":null,"language":"javascript","enabled":true,"code":"export default () => 'not this one'","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"status":"success","result":"before"}
POST /v1/accounts/{acc1}/rooms/{room1}/users x10 201:10 (several workers)
POST /v1/accounts/{acc1}/rooms/{room1}/users x10 201:10 (several workers)
GET /v1/accounts/{acc1}/workflows/{wf1}/executions?limit=100 200 21 items, last page
GET /v1/accounts/{acc1}/workflows/{wf2}/executions?limit=100 200 20 items, last page
sse retry: 1000
event: execution | id: {exe1} | data.id: {exe1} success "u0"
event: execution | id: {exe2} | data.id: {exe2} success "u1"
event: execution | id: {exe3} | data.id: {exe3} success "u2"
event: execution | id: {exe4} | data.id: {exe4} success "u3"
event: execution | id: {exe5} | data.id: {exe5} success "u4"
event: execution | id: {exe6} | data.id: {exe6} success "u5"
event: execution | id: {exe7} | data.id: {exe7} success "u6"
event: execution | id: {exe8} | data.id: {exe8} success "u7"
event: execution | id: {exe9} | data.id: {exe9} success "u8"
event: execution | id: {exe10} | data.id: {exe10} success "u9"
event: execution | id: {exe11} | data.id: {exe11} success "v0"
event: execution | id: {exe12} | data.id: {exe12} success "v1"
event: execution | id: {exe13} | data.id: {exe13} success "v2"
event: execution | id: {exe14} | data.id: {exe14} success "v3"
event: execution | id: {exe15} | data.id: {exe15} success "v4"
event: execution | id: {exe16} | data.id: {exe16} success "v5"
event: execution | id: {exe17} | data.id: {exe17} success "v6"
event: execution | id: {exe18} | data.id: {exe18} success "v7"
event: execution | id: {exe19} | data.id: {exe19} success "v8"
event: execution | id: {exe20} | data.id: {exe20} success "v9"
sse: 20 events

=== TEST 2: a tail of a workflow that does not exist, or without a key
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
GET /v1/accounts/{acc1}/workflows/wf_NoSuchWorkflowNoSuchWork/tail
as none
GET /v1/accounts/{acc1}/workflows/wf_NoSuchWorkflowNoSuchWork/tail
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
GET /v1/accounts/{acc1}/workflows/wf_NoSuchWorkflowNoSuchWork/tail 404 {"error":{"code":"not_found","message":"workflow not found"}}
GET /v1/accounts/{acc1}/workflows/wf_NoSuchWorkflowNoSuchWork/tail 401 {"error":{"code":"unauthorized","message":"an Authorization: Bearer token is required"}}

