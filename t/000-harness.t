# Self-test of the test scaffold (t/lib/Test/Nginx/Socket.pm and Util.pm).
#
# Only directives of a stock nginx build are used, and every block is
# written so that it also passes under the CPAN Test::Nginx::Socket.  The
# last part runs a small spec full of wrong expectations in a child process
# and checks that each of them is reported as a failure.

use Test::Nginx::Socket 'no_plan';

use Cwd ();
use File::Spec ();
use File::Temp ();
use IO::Socket::INET ();

repeat_each(2);
no_shuffle();
env_to_nginx("HARNESS_ENV=from-harness");

# $request_body is only filled in once something has read the body, and
# "return" runs before that.  /echo makes the proxy module read the body,
# then lands on /show through error_page, where the body is still around.
our $HttpConfig = qq{
    client_body_buffer_size 1m;
    client_body_in_single_buffer on;
};

our $EchoConfig = q{
    location = /echo {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/fail;
        proxy_intercept_errors on;
        error_page 500 = /show;
    }
    location = /fail {
        return 500;
    }
    location = /show {
        internal;
        return 200 "len=$http_content_length body=[$request_body]\n";
    }
};

add_block_preprocessor(sub {
    my $block = shift;

    # "--- process_model: master" runs the block with a master process and
    # two workers; everything else uses the default single process.
    my $model = $block->process_model;
    if (defined $model && $model eq 'master') {
        master_on();
        workers(2);
    } else {
        master_process_enabled(0);
        workers(1);
    }

    if (!defined $block->config) {
        $block->set_value("config", <<'_EOC_');
    location = /t {
        return 200 "default config\n";
    }
_EOC_
    }
});

sub read_pid_file {
    my $file = File::Spec->catfile(server_root(), 'logs', 'nginx.pid');
    open my $fh, '<', $file or return undef;
    my $pid = <$fh>;
    close $fh;
    $pid =~ s/\s+//g if defined $pid;
    return $pid;
}

sub child_pids {
    my $ppid = shift;
    my @kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh>;
        close $fh;
        next if !defined $line;
        # pid (comm) state ppid ...
        if ($line =~ /^(\d+) \(.*\) (\S) (\d+) /s && $3 == $ppid
            && $2 ne 'Z')
        {
            push @kids, $1;
        }
    }
    return @kids;
}

# Custom sections of this file:
#   --- process_model: single|master   body is the $pid that served it
#   --- conf_like                      regexes the nginx.conf must match
add_response_body_check(sub {
    my ($block, $body, $req_idx, $repeated_req_idx, $dry_run) = @_;
    my $name = $block->name;

    if (defined(my $model = $block->process_model)) {
        my $master = read_pid_file();
        (my $served_by = defined $body ? $body : '') =~ s/\s+//g;

        if ($model eq 'master') {
            isnt($served_by, $master,
                 "$name - served by a worker, not the master "
                 . "(req $repeated_req_idx)");
            is(scalar(child_pids($master)), 2,
               "$name - master has two workers (req $repeated_req_idx)");
        } else {
            is($served_by, $master,
               "$name - served by the only nginx process "
               . "(req $repeated_req_idx)");
        }
    }

    if (defined(my $pats = $block->conf_like)) {
        my $file = File::Spec->catfile(server_root(), 'conf', 'nginx.conf');
        open my $fh, '<', $file or die "cannot open $file: $!";
        my $conf = do { local $/; <$fh> };
        close $fh;

        for my $pat (@$pats) {
            like($conf, $pat, "$name - nginx.conf matches $pat "
                              . "(req $repeated_req_idx)");
        }
    }
});

run_tests();

# ---------------------------------------------------------------------------
# Failures must be reported: run a spec with wrong expectations in a child
# process (its own port and server root) and inspect its TAP output.
# ---------------------------------------------------------------------------

my $failing_spec = <<'_EOS_';
use Test::Nginx::Socket 'no_plan';
no_shuffle();
run_tests();
@@DATA@@
=== TEST 1: right expectations
--- config
    location = /t {
        add_header X-Present yes;
        return 200 "hi\n";
    }
--- request
GET /t
--- response_body
hi

=== TEST 2: wrong body
--- config
    location = /t { return 200 "hi\n"; }
--- request
GET /t
--- response_body
bye

=== TEST 3: wrong status
--- config
    location = /t { return 200 "hi\n"; }
--- request
GET /t
--- error_code: 404
--- response_body
hi

=== TEST 4: wrong headers
--- config
    location = /t {
        add_header X-Present yes;
        return 200 "hi\n";
    }
--- request
GET /t
--- response_headers
X-Present: no
!Content-Type

=== TEST 5: wrong logs
--- config
    location /missing/ { root /nonexistent-harness-root; }
--- request
GET /missing/x.txt
--- error_code: 404
--- error_log
this text is never logged
--- no_error_log
[error]

=== TEST 6: wrong regex
--- config
    location = /t { return 200 "hi\n"; }
--- request
GET /t
--- response_body_like chomp
^bye$

=== TEST 7: client timeout
--- config
    location = /slow {
        limit_rate 1;
        return 200 "0123456789";
    }
--- request
GET /slow
--- timeout: 0.3
--- response_body
0123456789

=== TEST 8: wrong pipelined bodies
--- config
    location = /a { return 200 "A\n"; }
    location = /b { return 200 "B\n"; }
--- pipelined_requests eval
["GET /a", "GET /b"]
--- response_body eval
["A\n", "not B\n"]
_EOS_

$failing_spec =~ s/^\@\@DATA\@\@$/__DATA__/m;

sub free_port {
    my $sock = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1',
        LocalPort => 0,
        Proto     => 'tcp',
        Listen    => 1,
        ReuseAddr => 1,
    ) or die "cannot find a free port: $!";
    my $port = $sock->sockport;
    close $sock;
    return $port;
}

{
    my $dir = File::Temp::tempdir('harness-selftest-XXXXXX', TMPDIR => 1,
                                  CLEANUP => 1);
    my $spec = File::Spec->catfile($dir, 'failing.t');
    open my $out, '>', $spec or die "cannot write $spec: $!";
    print $out $failing_spec;
    close $out;

    # Run the child with the same Test::Nginx::Socket as this file.
    (my $lib = $INC{'Test/Nginx/Socket.pm'}) =~ s{/?Test/Nginx/Socket\.pm$}{};
    $lib = Cwd::abs_path($lib eq '' ? '.' : $lib);

    my $port = free_port();
    my $tap;
    {
        local %ENV = %ENV;
        delete @ENV{qw(TEST_NGINX_NO_CLEAN TEST_NGINX_RANDOMIZE
                       TEST_NGINX_ERROR_LOG)};
        $ENV{TEST_NGINX_SERVROOT} = "$dir/servroot";
        $ENV{$_} = $port for qw(TEST_NGINX_PORT TEST_NGINX_SERVER_PORT
                                 TEST_NGINX_CLIENT_PORT);

        $tap = `"$^X" -I"$lib" "$spec" 2>&1`;
    }

    # Only the TAP lines are inspected: the exit status is not reliable
    # across implementations (after a client timeout the CPAN module turns
    # off Test::Builder's end-of-run handling, and with it the exit code).
    my (%ok, %not_ok);
    for my $line (split /\n/, $tap) {
        if ($line =~ /^(not )?ok \d+ - (.*?)\s*$/) {
            if ($1) {
                $not_ok{$2} = 1;
            } else {
                $ok{$2} = 1;
            }
        }
    }

    my $reported = sub {
        my ($hash, $re) = @_;
        return scalar grep { /$re/ } keys %$hash;
    };

    my @must_fail = (
        qr/TEST 2: wrong body - response_body - response is expected/,
        qr/TEST 3: wrong status - status code ok/,
        qr/TEST 4: wrong headers - header X-Present ok/,
        qr/TEST 4: wrong headers - header Content-Type not present/,
        qr/TEST 5: wrong logs - pattern "this text is never logged" should/,
        qr/TEST 5: wrong logs - pattern "\[error\]" should not match/,
        qr/TEST 6: wrong regex - response_body_like - response is expected/,
        qr/^ERROR: client socket timed out - .*TEST 7: client timeout/,
        qr/TEST 8: wrong pipelined bodies - response_body .*req 0, req 1\)/,
    );

    for my $re (@must_fail) {
        ok($reported->(\%not_ok, $re),
           "failing spec - reported as failed: $re")
            or diag("child output:\n$tap");
    }

    my @must_pass = (
        qr/TEST 1: right expectations - status code ok/,
        qr/TEST 1: right expectations - response_body - response is expected/,
        qr/TEST 8: wrong pipelined bodies - response_body .*req 0, req 0\)/,
    );

    for my $re (@must_pass) {
        ok($reported->(\%ok, $re), "failing spec - reported as passed: $re")
            or diag("child output:\n$tap");
    }
}

__DATA__

=== TEST 1: return, default status, present and absent headers
--- config
    location = /t {
        add_header X-Foo bar;
        return 200 "hello\n";
    }
--- request
GET /t
--- response_headers
Content-Type: text/plain
Content-Length: 6
X-Foo: bar
X-Absent:
!X-Also-Absent
--- response_body
hello
--- no_error_log
[error]



=== TEST 2: status code, regex body match with chomp, raw headers
--- config
    location = /t {
        return 201 "status=created";
    }
--- request
GET /t
--- error_code: 201
--- response_body_like chomp
^status=\w+$
--- raw_response_headers_like: ^HTTP/1\.1 201 Created\r\n



=== TEST 3: more_headers, Host and Connection, comments before the request
--- config
    location = /t {
        set $custom "foo=$http_x_foo auth=$http_authorization";
        return 200 "$custom\nhost=$host conn=$http_connection\n";
    }
--- request
    # this comment and the indentation are ignored
    GET /t
--- more_headers
X-Foo: bar
Authorization: Bearer abc
--- response_body
foo=bar auth=Bearer abc
host=localhost conn=close



=== TEST 4: request body with automatic Content-Length (body is trimmed)
--- http_config eval: $::HttpConfig
--- config eval: $::EchoConfig
--- request
POST /echo
hello world
--- response_body
len=11 body=[hello world]
--- no_error_log
[error]



=== TEST 5: request eval
--- http_config eval: $::HttpConfig
--- config eval: $::EchoConfig
--- request eval
"POST /echo\n" . ("x" x 10)
--- response_body
len=10 body=[xxxxxxxxxx]



=== TEST 6: chunked request body is sent untouched, without Content-Length
--- http_config eval: $::HttpConfig
--- config eval: $::EchoConfig
--- more_headers
Transfer-Encoding: chunked
--- request eval
"POST /echo\n5\r\nhello\r\n0\r\n\r\n"
--- response_body
len= body=[hello]



=== TEST 7: request split into packets, the second one delayed
--- http_config eval: $::HttpConfig
--- config eval: $::EchoConfig
--- request eval
[["POST /echo\nhel", { value => "lo", delay_before => 0.1 }]]
--- response_body
len=5 body=[hello]



=== TEST 8: error_log and no_error_log with plain patterns
--- config
    location /missing/ {
        root /nonexistent-harness-root;
    }
--- request
GET /missing/file.txt
--- error_code: 404
--- error_log
[error]
open() "/nonexistent-harness-root/missing/file.txt" failed
--- no_error_log
[crit]
[alert]



=== TEST 9: error_log and no_error_log with eval'd regexes, grep_error_log
--- config
    location /missing/ {
        root /nonexistent-harness-root;
    }
--- request
GET /missing/other.txt
--- error_code: 404
--- error_log eval
[qr/open\(\) "[^"]+" failed \(2: No such file or directory\)/, "[error]"]
--- no_error_log eval
[qr/\[emerg\]/, "no such text in the log"]
--- grep_error_log eval: qr/open\(\) "[^"]+" failed/
--- grep_error_log_out
open() "/nonexistent-harness-root/missing/other.txt" failed



=== TEST 10: log_level section
--- log_level: warn
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok
--- no_error_log
[debug]
[info]
[notice]



=== TEST 11: pipelined requests
--- config
    location = /a {
        return 200 "A\n";
    }
    location = /b {
        return 202 "B\n";
    }
--- pipelined_requests eval
["GET /a", "GET /b"]
--- error_code eval
[200, 202]
--- response_headers eval
["Connection: keep-alive", "Connection: close"]
--- response_body eval
["A\n", "B\n"]



=== TEST 12: several requests, one connection each
--- config
    location = /a {
        return 200 "A\n";
    }
    location = /b {
        return 404;
    }
--- request eval
["GET /a", "GET /b"]
--- error_code eval
[200, 404]
--- response_headers eval
["Connection: close", "Content-Type: text/html"]
--- response_body_like eval
["^A\$", "<title>404 Not Found</title>"]



=== TEST 13: user_files served by the default root location
--- user_files
>>> foo.txt
content of foo
>>> sub/bar.txt 202001020304.05
bar
--- request eval
["GET /foo.txt", "GET /sub/bar.txt"]
--- response_headers eval
["Content-Length: 15", "Last-Modified: Thu, 02 Jan 2020 03:04:05 GMT"]
--- response_body eval
["content of foo\n", "bar\n"]



=== TEST 14: section missing from the block gets a default from a preprocessor
--- request
GET /t
--- response_body
default config



=== TEST 15: chunked response is decoded
--- config
    location = /chunked {
        sub_filter 'a' 'b';
        sub_filter_once off;
        sub_filter_types *;
        return 200 "aaa\n";
    }
--- request
GET /chunked
--- response_headers
Transfer-Encoding: chunked
!Content-Length
--- response_body
bbb



=== TEST 16: HEAD request
--- config
    location = /t {
        return 200 "hello\n";
    }
--- request
HEAD /t
--- response_headers
Content-Length: 6
--- response_body eval
""



=== TEST 17: HTTP/1.0 request line, escapes in the body
--- config
    location = /t {
        return 200 "a\tb\x01";
    }
--- request
GET /t HTTP/1.0
--- response_body eval
"a\tb\\x01"



=== TEST 18: $TEST_NGINX_* expansion and random ports
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / {
            return 200 "backend on $server_port\n";
        }
    }
--- config
    location = /proxy {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/;
    }
    location = /port {
        return 200 "port=$server_port\n";
    }
--- request eval
["GET /proxy", "GET /port"]
--- response_body eval
['backend on $TEST_NGINX_RAND_PORT_1' . "\n",
 'port=$TEST_NGINX_SERVER_PORT' . "\n"]



=== TEST 19: main_config, env_to_nginx and the generated nginx.conf layout
--- main_config
    env HARNESS_MAIN_CONFIG=1;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok
--- conf_like eval
[
    qr/^worker_processes\s+1;$/m,
    qr/^daemon on;$/m,
    qr/^master_process off;$/m,
    qr/^error_log \S+\/logs\/error\.log debug;$/m,
    qr/^env HARNESS_ENV=from-harness;$/m,
    qr/env HARNESS_MAIN_CONFIG=1;.*^http \{/ms,
    qr/^\s*default_type text\/plain;$/m,
    qr/^\s*listen\s+$ENV{TEST_NGINX_SERVER_PORT};$/m,
    qr/^\s*client_max_body_size 30M;$/m,
    qr/^events \{\s+accept_mutex off;\s+worker_connections\s+64;\s+\}/m,
    ($> == 0 ? qr/^user root;$/m : qr/^/),
]



=== TEST 20: single process by default
--- process_model: single
--- config
    location = /pid {
        return 200 "$pid\n";
    }
--- request
GET /pid
--- response_body_like chomp
^\d+$



=== TEST 21: master process with two workers
--- process_model: master
--- config
    location = /pid {
        return 200 "$pid\n";
    }
--- request
GET /pid
--- response_body_like chomp
^\d+$
--- conf_like eval
[qr/^worker_processes\s+2;$/m, qr/^master_process on;$/m]



=== TEST 22: wait and timeout sections
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- wait: 0.1
--- timeout: 500ms
--- response_body
ok



=== TEST 23: error_code_like and response_headers_like
--- config
    location = /t {
        add_header X-Num 12345;
        return 204;
    }
--- request
GET /t
--- error_code_like: ^20[0-9]$
--- response_headers_like
X-Num: \d+
Server: nginx(/[\d.]+)?



=== TEST 24: access_log check
--- config
    location = /logged {
        return 200 "ok\n";
    }
--- request
GET /logged?x=1
--- response_body
ok
--- access_log
"GET /logged?x=1 HTTP/1.1" 200



=== TEST 25: skip_nginx that does not apply
--- skip_nginx: 2: < 0.1.0
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok



=== TEST 26: skip_nginx that applies (expectations would fail)
--- skip_nginx: 2: >= 0.1.0
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- error_code: 500
--- response_body
not ok



=== TEST 27: a SKIP block never runs
--- SKIP
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
this would fail
