# Behaviour across workers: two workers, a server block with reuseport so
# that concurrent connections spread over both; every answer says which
# worker gave it (X-Worker), and the scenario runner reports when more
# than one worker answered.

use lib 't/inc';
use CollabTest;
use POSIX ();
use Test::Nginx::Socket 'no_plan';

workers(2);
master_on();
no_shuffle();

# room for the runner's "repeat 150": its connections and theirs
worker_connections(1024);

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", $CollabTest::HttpConfig . <<'_EOC_');
    server {
        listen 127.0.0.1:$TEST_NGINX_COLLAB_PORT2 reuseport;
        location /v1/ {
            add_header X-Worker $pid always;
            collab_api;
        }
    }
_EOC_
});

# An account with 99 webhooks, made with SQL, and another process that
# then holds the database's write lock for a second: the creates that
# arrive meanwhile wait in both workers and go on together.
sub hold_write_lock_at_99_webhooks {
    my $db = Test::Nginx::Socket::server_root() . "/logs/collab.db";
    my $held = "$db.held";
    my $acc = 'acc_LimitLimitLimitLimit00';

    system("sqlite3", $db, ".timeout 5000",
           "INSERT INTO accounts (id, name, created_at)"
           . " VALUES ('$acc', 'Limit', 0)",
           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
           . " WHERE i < 99) INSERT INTO webhooks (id, account_id, url,"
           . " events, event_mask, enabled, secret, created_at, updated_at)"
           . " SELECT printf('wh_SeedSeedSeedSeed%06d', i), '$acc',"
           . " 'https://example.com/seed', '[\"user.created\"]', 16, 1,"
           . " 'whsec_seed', 0, 0 FROM n") == 0
        or die "sqlite3 failed\n";

    unlink $held;

    my $pid = fork() // die "fork: $!\n";

    if ($pid == 0) {
        # a grandchild, so that nobody has to reap it
        POSIX::_exit(0) if fork();
        exec("sqlite3", $db, ".timeout 5000", "BEGIN IMMEDIATE;",
             ".shell touch '$held'", ".shell sleep 1", "COMMIT;")
            or POSIX::_exit(1);
    }

    waitpid($pid, 0);

    for (1 .. 500) {
        return if -e $held;
        select(undef, undef, undef, 0.01);
    }

    die "the write lock was not taken\n";
}

run_tests();

__DATA__

=== TEST 1: a revoked key is refused by every worker at once
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/keys {}
port second
as {tok1}
repeat 30 GET /v1/accounts/{acc1}
as admin
DELETE /v1/accounts/{acc1}/keys/{key1}
as {tok1}
repeat 30 GET /v1/accounts/{acc1}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/keys 201 {"id":"{key1}","name":null,"token":"{tok1}","createdAt":"<ts>"}
GET /v1/accounts/{acc1} x30 200:30 (several workers)
DELETE /v1/accounts/{acc1}/keys/{key1} 204
GET /v1/accounts/{acc1} x30 401:30 (several workers)

=== TEST 2: a key created in one worker works in every worker at once
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
port second
POST /v1/accounts/{acc1}/keys {}
as {tok1}
repeat 30 GET /v1/accounts/{acc1}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/keys 201 {"id":"{key1}","name":null,"token":"{tok1}","createdAt":"<ts>"}
GET /v1/accounts/{acc1} x30 200:30 (several workers)

=== TEST 3: concurrent creates of one userId from both workers: exactly one wins
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
port second
repeat 30 POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"same"}
GET /v1/accounts/{acc1}/events?limit=100
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users x30 201:1 409:29 (several workers)
GET /v1/accounts/{acc1}/events?limit=100 200 {"data":[{"id":"{evt1}","event":"user.created","data":{"userId":"same","roomId":"{room1}"},"timestamp":"<ts>"}],"nextCursor":null}

=== TEST 4: concurrent writes from both workers all commit
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
port second
repeat 25 POST /v1/accounts/{acc1}/rooms {"name":"r"}
repeat 20 GET /v1/accounts/{acc1}/rooms?limit=100
count GET /v1/accounts/{acc1}/rooms?limit=100
count GET /v1/accounts/{acc1}/rooms?limit=24
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms x25 201:25 (several workers)
GET /v1/accounts/{acc1}/rooms?limit=100 x20 200:20 (several workers)
GET /v1/accounts/{acc1}/rooms?limit=100 200 25 items, last page
GET /v1/accounts/{acc1}/rooms?limit=24 200 24 items, more

=== TEST 5: concurrent uploads of one file from both workers leave one whole version
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
port second
raw repeat 20 PUT /v1/accounts/{acc1}/rooms/{room1}/files/same v{i}-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-v{i}
port first
GET /v1/accounts/{acc1}/rooms/{room1}/files/same
GET /v1/accounts/{acc1}/rooms/{room1}/files
disk
--- response_body_like chomp
^POST [^\n]*
POST [^\n]*
PUT /v1/accounts/\{acc1\}/rooms/\{room1\}/files/same x20 200:19 201:1 \(several workers\)
GET \S+ 200 v(\d+)-a{2000}-v\1
GET \S+ 200 \{"data":\[\{"name":"same","size":\d+,"contentType":"application/octet-stream","etag":"\\"\{(blob\d+)\}\\"","uploadedAt":"<ts>"\}\],"nextCursor":null\}
disk \{room1\}: \{\2\}$

=== TEST 6: a burst of webhook creates from both workers stops at 100 per account
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
port second
repeat 150 POST /v1/accounts/{acc1}/webhooks {"url":"https://example.com/hook/{i}","events":["user.created"]}
port first
count GET /v1/accounts/{acc1}/webhooks?limit=100
POST /v1/accounts/{acc1}/webhooks {"url":"https://example.com/hook","events":["user.created"]}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/webhooks x150 201:100 409:50 (several workers)
GET /v1/accounts/{acc1}/webhooks?limit=100 200 100 items, last page
POST /v1/accounts/{acc1}/webhooks 409 {"error":{"code":"conflict","message":"an account has at most 100 webhooks"}}

=== TEST 7: creates held up at the 99th webhook, in both workers at once, make one more only
--- init
main::hold_write_lock_at_99_webhooks();
--- request
POST /t
as admin
port second
repeat 10 POST /v1/accounts/acc_LimitLimitLimitLimit00/webhooks {"url":"https://example.com/last/{i}","events":["user.created"]}
port first
count GET /v1/accounts/acc_LimitLimitLimitLimit00/webhooks?limit=100
--- response_body
POST /v1/accounts/acc_LimitLimitLimitLimit00/webhooks x10 201:1 409:9 (several workers)
GET /v1/accounts/acc_LimitLimitLimitLimit00/webhooks?limit=100 200 100 items, last page
