# Metrics: "location = /metrics { collab_metrics; }" answers Prometheus
# text that promtool accepts, and its counters move exactly as the
# requests of each block say: requests by route pattern and status class,
# events by type, webhook attempts and deliveries, pending deliveries.
# Two workers count into the same zone (a server with reuseport spreads
# the requests over both); the counts survive a reload and the kill -9 of
# the workers.  Each block starts nginx afresh, so each starts from zero.
#
# A block's first request runs the scenario (its transcript is shown as
# "METHOD PATH STATUS" only); the last scrapes /metrics and keeps the
# lines of the metrics the block is about.

use lib 't/inc';
use CollabTest;
use CollabMetrics;
use Test::Nginx::Socket 'no_plan';

workers(2);
master_on();
no_shuffle();
check_accum_error_log();

our $Settings = <<'_EOC_';
    collab_webhook_allow_private   on;
    collab_webhook_retry_schedule  200ms;
    collab_webhook_timeout         500ms;
    server {
        listen 127.0.0.1:$TEST_NGINX_COLLAB_DNS_PORT reuseport;
        location /v1/ {
            add_header X-Worker $pid always;
            collab_api;
        }
    }
_EOC_

our $Metrics = <<'_EOC_';
    location = /metrics {
        collab_metrics;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config", $CollabTest::HttpConfig
                                         . $CollabTest::Receiver
                                         . $Settings);
    }

    if (!defined $block->config) {
        $block->set_value("config", $CollabTest::Config . $Metrics);
    }

    $block->set_value("timeout", 20) if !defined $block->timeout;
});

# the transcript of a scenario without the answers' bodies
sub statuses {
    my $text = shift;
    $text =~ s/^(\S+ \S+ \d{3}) .*$/$1/mg;
    return $text;
}

sub master_pid {
    my $file = Test::Nginx::Socket::server_root() . '/logs/nginx.pid';
    open(my $fh, '<', $file) or die "$file: $!\n";
    my $pid = <$fh>;
    chomp $pid;
    return $pid;
}

sub worker_pids {
    my $master = shift;
    return grep { /\d/ } split /\s+/, `ps -o pid= --ppid $master`;
}

# after $signal to the master (HUP) or to its workers (KILL): until two
# workers run again and none of those of before is left, at most 10 s
sub new_workers {
    my $signal = shift;
    my $master = master_pid();
    my @old = worker_pids($master);

    if ($signal eq 'HUP') {
        kill 'HUP', $master;
    } else {
        kill $signal, @old;
    }

    for (1 .. 100) {
        select(undef, undef, undef, 0.1);
        my %now = map { $_ => 1 } worker_pids($master);
        next if grep { $now{$_} } @old;
        return if keys %now == 2;
    }

    die "the workers did not change after $signal\n";
}

run_tests();

__DATA__

=== TEST 1: promtool accepts a scrape with requests, events and webhooks in it
--- request eval
["POST /t
as admin
POST /v1/accounts {\"name\":\"Acme\"}
POST /v1/accounts/{acc1}/rooms {\"name\":\"r\"}
POST /v1/accounts/{acc1}/webhooks {\"url\":\"http://127.0.0.1:{port2}/hook/ok\",\"events\":[\"*\"]}
POST /v1/accounts/{acc1}/webhooks {\"url\":\"http://127.0.0.1:{port2}/hook/status/500\",\"events\":[\"*\"]}
POST /v1/accounts/{acc1}/rooms/{room1}/users {}
GET /v1/no/such/route
wait 3
", "GET /metrics"]
--- response_body_filters eval
[[\&main::statuses], [\&main::promtool]]
--- response_body eval
["POST /v1/accounts 201
POST /v1/accounts/{acc1}/rooms 201
POST /v1/accounts/{acc1}/webhooks 201
POST /v1/accounts/{acc1}/webhooks 201
POST /v1/accounts/{acc1}/rooms/{room1}/users 201
GET /v1/no/such/route 404
received 3
", "promtool: ok\n"]



=== TEST 2: requests by route pattern and status class, events by type
--- request eval
["POST /t
as admin
POST /v1/accounts {\"name\":\"Acme\"}
DELETE /v1/accounts
POST /v1/accounts/{acc1}/keys {}
as {tok1}
POST /v1/accounts/{acc1}/rooms {\"name\":\"r\"}
repeat 3 POST /v1/accounts/{acc1}/rooms/{room1}/users {}
POST /v1/accounts/{acc1}/rooms/{room1}/users {\"userId\":\"u1\"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {\"userId\":\"u1\"}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/u1 {\"name\":\"Ann\"}
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/u1 {\"name\":\"Ann\"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/u1
GET /v1/accounts/{acc1}/rooms/{room1}/users?limit=10
as none
GET /v1/accounts/{acc1}/rooms
GET /v1/nothing
", "GET /metrics"]
--- response_body_filters eval
[[\&main::statuses],
 [main::samples('collab_http_requests_total', 'collab_events_total{')]]
--- response_body eval
["POST /v1/accounts 201
DELETE /v1/accounts 405
POST /v1/accounts/{acc1}/keys 201
POST /v1/accounts/{acc1}/rooms 201
POST /v1/accounts/{acc1}/rooms/{room1}/users x3 201:3
POST /v1/accounts/{acc1}/rooms/{room1}/users 201
POST /v1/accounts/{acc1}/rooms/{room1}/users 409
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/u1 200
PATCH /v1/accounts/{acc1}/rooms/{room1}/users/u1 200
DELETE /v1/accounts/{acc1}/rooms/{room1}/users/u1 204
GET /v1/accounts/{acc1}/rooms/{room1}/users?limit=10 200
GET /v1/accounts/{acc1}/rooms 401
GET /v1/nothing 404
",
q{collab_http_requests_total{route="unmatched",class="4xx"} 1
collab_http_requests_total{route="/v1/accounts",class="2xx"} 1
collab_http_requests_total{route="/v1/accounts",class="4xx"} 1
collab_http_requests_total{route="/v1/accounts/:/keys",class="2xx"} 1
collab_http_requests_total{route="/v1/accounts/:/rooms",class="2xx"} 1
collab_http_requests_total{route="/v1/accounts/:/rooms",class="4xx"} 1
collab_http_requests_total{route="/v1/accounts/:/rooms/:/users",class="2xx"} 5
collab_http_requests_total{route="/v1/accounts/:/rooms/:/users",class="4xx"} 1
collab_http_requests_total{route="/v1/accounts/:/rooms/:/users/:",class="2xx"} 3
collab_events_total{type="participant.joined"} 0
collab_events_total{type="participant.left"} 0
collab_events_total{type="session.started"} 0
collab_events_total{type="session.closed"} 0
collab_events_total{type="user.created"} 4
collab_events_total{type="user.updated"} 1
collab_events_total{type="user.deleted"} 1
}]



=== TEST 3: two workers count into one zone
--- request eval
["POST /t
as admin
POST /v1/accounts {\"name\":\"Acme\"}
POST /v1/accounts/{acc1}/rooms {\"name\":\"r\"}
port third
repeat 25 POST /v1/accounts/{acc1}/rooms/{room1}/users {}
repeat 25 GET /v1/accounts/{acc1}/rooms/{room1}
", "GET /metrics"]
--- response_body_filters eval
[[\&main::statuses],
 [main::samples('collab_http_requests_total{route="/v1/accounts/:/rooms/:',
                'collab_events_total{type="user.created"}')]]
--- response_body eval
["POST /v1/accounts 201
POST /v1/accounts/{acc1}/rooms 201
POST /v1/accounts/{acc1}/rooms/{room1}/users x25 201:25 (several workers)
GET /v1/accounts/{acc1}/rooms/{room1} x25 200:25 (several workers)
",
q{collab_http_requests_total{route="/v1/accounts/:/rooms/:",class="2xx"} 25
collab_http_requests_total{route="/v1/accounts/:/rooms/:/users",class="2xx"} 25
collab_events_total{type="user.created"} 25
}]



=== TEST 4: webhook attempts by result, deliveries by outcome, their durations
One webhook gets a 200, one a 500 twice (an attempt and its retry), one
times out twice; then nothing is pending.
--- request eval
["POST /t
as admin
POST /v1/accounts {\"name\":\"Acme\"}
POST /v1/accounts/{acc1}/rooms {\"name\":\"r\"}
POST /v1/accounts/{acc1}/webhooks {\"url\":\"http://127.0.0.1:{port2}/hook/ok\",\"events\":[\"user.created\"]}
POST /v1/accounts/{acc1}/webhooks {\"url\":\"http://127.0.0.1:{port2}/hook/status/500\",\"events\":[\"user.created\"]}
POST /v1/accounts/{acc1}/webhooks {\"url\":\"http://127.0.0.1:{port2}/hook/slow/2000\",\"events\":[\"user.created\"]}
POST /v1/accounts/{acc1}/rooms/{room1}/users {}
wait 5
sleep 1500
", "GET /metrics"]
--- response_body_filters eval
[[\&main::statuses],
 [main::samples('collab_webhook_attempts_total',
                'collab_webhook_deliveries_total',
                'collab_webhook_deliveries_pending ',
                'collab_webhook_attempt_duration_seconds_bucket{le="+Inf"}',
                'collab_webhook_attempt_duration_seconds_count')]]
--- response_body eval
["POST /v1/accounts 201
POST /v1/accounts/{acc1}/rooms 201
POST /v1/accounts/{acc1}/webhooks 201
POST /v1/accounts/{acc1}/webhooks 201
POST /v1/accounts/{acc1}/webhooks 201
POST /v1/accounts/{acc1}/rooms/{room1}/users 201
received 5
",
q{collab_webhook_attempts_total{result="success"} 1
collab_webhook_attempts_total{result="http_error"} 2
collab_webhook_attempts_total{result="timeout"} 2
collab_webhook_attempts_total{result="error"} 0
collab_webhook_deliveries_total{outcome="success"} 1
collab_webhook_deliveries_total{outcome="failed"} 2
collab_webhook_attempt_duration_seconds_bucket{le="+Inf"} 5
collab_webhook_attempt_duration_seconds_count 5
collab_webhook_deliveries_pending 0
}]



=== TEST 5: pending deliveries are counted in the database at each scrape
Two deliveries whose first attempt failed wait an hour for their retry.
--- http_config eval
$CollabTest::HttpConfig . $CollabTest::Receiver . q{
    collab_webhook_allow_private   on;
    collab_webhook_retry_schedule  1h;
}
--- request eval
["POST /t
as admin
POST /v1/accounts {\"name\":\"Acme\"}
POST /v1/accounts/{acc1}/rooms {\"name\":\"r\"}
POST /v1/accounts/{acc1}/webhooks {\"url\":\"http://127.0.0.1:{port2}/hook/status/503\",\"events\":[\"*\"]}
repeat 2 POST /v1/accounts/{acc1}/rooms/{room1}/users {}
wait 2
sleep 300
", "GET /metrics"]
--- response_body_filters eval
[[\&main::statuses],
 [main::samples('collab_webhook_deliveries_pending ',
                'collab_webhook_attempts_total{result="http_error"}')]]
--- response_body eval
["POST /v1/accounts 201
POST /v1/accounts/{acc1}/rooms 201
POST /v1/accounts/{acc1}/webhooks 201
POST /v1/accounts/{acc1}/rooms/{room1}/users x2 201:2
received 2
",
q{collab_webhook_attempts_total{result="http_error"} 2
collab_webhook_deliveries_pending 2
}]



=== TEST 6: waits for SQLite's lock, and the write-ahead log's size
Another process holds the write lock for a while: the store's thread
waits for it, and the account is created once it is free.
--- init
my $db = Test::Nginx::Socket::server_root() . '/logs/collab.db';
system("(echo '.timeout 2000'; echo 'BEGIN IMMEDIATE;'; sleep 1.5;"
       . " echo 'COMMIT;') | sqlite3 $db &");
select(undef, undef, undef, 0.3);
--- request eval
["POST /t
as admin
POST /v1/accounts {\"name\":\"Acme\"}
sleep 1200
", "GET /metrics"]
--- response_body_filters eval
[[\&main::statuses],
 [main::samples('collab_sqlite_busy', 'collab_sqlite_wal_bytes'),
  \&main::positive]]
--- response_body eval
["POST /v1/accounts 201
",
q{collab_sqlite_busy_waits_total{connection="loop"} 0
collab_sqlite_busy_waits_total{connection="thread"} >0
collab_sqlite_busy_timeouts_total{connection="loop"} 0
collab_sqlite_busy_timeouts_total{connection="thread"} 0
collab_sqlite_wal_bytes >0
}]



=== TEST 7: a reload keeps the counts: the zone goes on, the new workers count on
--- request eval
["POST /t
as admin
POST /v1/accounts {\"name\":\"Acme\"}
POST /v1/accounts/{acc1}/rooms {\"name\":\"r\"}
repeat 3 POST /v1/accounts/{acc1}/rooms/{room1}/users {}
", "POST /t
as admin
POST /v1/accounts {\"name\":\"Beta\"}
POST /v1/accounts/{acc1}/rooms {\"name\":\"r\"}
repeat 2 POST /v1/accounts/{acc1}/rooms/{room1}/users {}
", "GET /metrics"]
--- response_body_filters eval
[[\&main::statuses, sub { main::new_workers('HUP'); $_[0] }],
 [\&main::statuses],
 [main::samples('collab_http_requests_total{route="/v1/accounts",',
                'collab_events_total{type="user.created"}')]]
--- response_body eval
["POST /v1/accounts 201
POST /v1/accounts/{acc1}/rooms 201
POST /v1/accounts/{acc1}/rooms/{room1}/users x3 201:3
", "POST /v1/accounts 201
POST /v1/accounts/{acc1}/rooms 201
POST /v1/accounts/{acc1}/rooms/{room1}/users x2 201:2
",
q{collab_http_requests_total{route="/v1/accounts",class="2xx"} 2
collab_events_total{type="user.created"} 5
}]



=== TEST 8: the kill -9 of every worker keeps the counts
--- request eval
["POST /t
as admin
POST /v1/accounts {\"name\":\"Acme\"}
POST /v1/accounts/{acc1}/rooms {\"name\":\"r\"}
port third
repeat 10 POST /v1/accounts/{acc1}/rooms/{room1}/users {}
", "GET /metrics"]
--- response_body_filters eval
[[\&main::statuses, sub { main::new_workers('KILL'); $_[0] }],
 [main::samples('collab_events_total{type="user.created"}')]]
--- response_body eval
["POST /v1/accounts 201
POST /v1/accounts/{acc1}/rooms 201
POST /v1/accounts/{acc1}/rooms/{room1}/users x10 201:10 (several workers)
",
q{collab_events_total{type="user.created"} 10
}]
--- no_error_log
[error]
--- error_log
[alert]
exited on signal 9



=== TEST 9: the use of each collab zone, under the names configured (presence's by default)
--- http_config eval
$CollabTest::HttpConfig . q{
    collab_zone          registry 1m;
    collab_metrics_zone  counts 256k;
}
--- request
GET /metrics
--- response_body_like
^collab_shm_pages\{zone="registry",state="used"\} \d+
collab_shm_pages\{zone="registry",state="free"\} \d+
collab_shm_pages\{zone="counts",state="used"\} \d+
collab_shm_pages\{zone="counts",state="free"\} \d+
collab_shm_pages\{zone="collab_presence",state="used"\} \d+
collab_shm_pages\{zone="collab_presence",state="free"\} \d+
collab_shm_size_bytes\{zone="registry"\} 1048576
collab_shm_size_bytes\{zone="counts"\} 262144
collab_shm_size_bytes\{zone="collab_presence"\} 33554432
--- response_body_filters eval
[main::samples('collab_shm_')]



=== TEST 10: the text's media type, HEAD, and no other method
--- request eval
["GET /metrics", "HEAD /metrics", "POST /metrics"]
--- error_code eval
[200, 200, 405]
--- response_headers eval
["Content-Type: text/plain; version=0.0.4; charset=utf-8",
 "Content-Type: text/plain; version=0.0.4; charset=utf-8", ""]
--- response_body_like eval
["^# HELP collab_http_requests_total ", "^\$", "405 Not Allowed"]



=== TEST 11: collab_metrics_zone too small
--- http_config
    collab_database logs/collab.db;
    collab_metrics_zone counts 16k;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_metrics_zone: zone "counts" of size "16k" is too small



=== TEST 12: collab_metrics_zone given twice
--- http_config
    collab_database logs/collab.db;
    collab_metrics_zone a 1m;
    collab_metrics_zone b 1m;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
"collab_metrics_zone" directive is duplicate
