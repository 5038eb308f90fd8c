# The database under pressure: a write lock held by another process makes
# writes answer 503 once the busy wait is over, and nothing is half-written;
# reads go on meanwhile (WAL), and writes work again once the lock is gone.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a locked database answers 503 and changes nothing
--- init
my $db = Test::Nginx::Socket::server_root() . "/logs/collab.db";
my @sql = (
    "INSERT INTO accounts (id, name, created_at)"
    . " VALUES ('acc_LockedLockedLocked000000', 'L', 0)",
    "INSERT INTO rooms (id, account_id, name, metadata, created_at,"
    . " updated_at) VALUES ('11111111-2222-4333-8444-555555555555',"
    . " 'acc_LockedLockedLocked000000', 'r', '{}', 0, 0)",
);
system("sqlite3", $db, ".timeout 5000", @sql) == 0
    or die "sqlite3 failed\n";
# hold the write lock for 5 seconds, in the background
system("sqlite3 '$db' '.timeout 5000' 'BEGIN IMMEDIATE;'"
       . " '.shell sleep 5' 'COMMIT;' >/dev/null 2>&1 &");
# go on once the lock is really held: a write must fail at once
for (1 .. 50) {
    last if system("sqlite3 '$db' 'BEGIN IMMEDIATE; ROLLBACK;'"
                   . " >/dev/null 2>&1") != 0;
    select(undef, undef, undef, 0.05);
}
--- request
POST /t
as admin
POST /v1/accounts/acc_LockedLockedLocked000000/rooms/11111111-2222-4333-8444-555555555555/users {"userId":"u1"}
GET /v1/accounts/acc_LockedLockedLocked000000/rooms/11111111-2222-4333-8444-555555555555/users
GET /v1/accounts/acc_LockedLockedLocked000000/events
sleep 3500
POST /v1/accounts/acc_LockedLockedLocked000000/rooms/11111111-2222-4333-8444-555555555555/users {"userId":"u1"}
GET /v1/accounts/acc_LockedLockedLocked000000/events
--- response_body
POST /v1/accounts/acc_LockedLockedLocked000000/rooms/11111111-2222-4333-8444-555555555555/users 503 {"error":{"code":"unavailable","message":"the database is unavailable, nothing was changed; try again"}}
GET /v1/accounts/acc_LockedLockedLocked000000/rooms/11111111-2222-4333-8444-555555555555/users 200 {"data":[],"nextCursor":null}
GET /v1/accounts/acc_LockedLockedLocked000000/events 200 {"data":[],"nextCursor":null}
POST /v1/accounts/acc_LockedLockedLocked000000/rooms/11111111-2222-4333-8444-555555555555/users 201 {"userId":"u1","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/acc_LockedLockedLocked000000/events 200 {"data":[{"id":"{evt1}","event":"user.created","data":{"userId":"u1","roomId":"{room1}"},"timestamp":"<ts>"}],"nextCursor":null}
--- timeout: 15
--- error_log
sqlite: database is locked (5)
