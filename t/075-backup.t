# A backup of the live database with the sqlite3 shell's ".backup", as
# docs/operations.md shows it, taken while the API writes: the copy passes
# "PRAGMA integrity_check", holds every write answered before it began,
# and is consistent (each user has the user.created event of its
# transaction), and an nginx started on the copy serves it and writes to it.
#
# The first block writes users in ten batches of 20; after the first one it
# writes the file "go", on which a process forked from its "--- init" runs
# the backup while the other batches go on, then writes "$copy.done".  The
# second block (the same database) waits for that file and checks the copy
# with sqlite3; the third starts nginx on the copy.

use lib 't/inc';
use CollabTest;
use File::Temp qw(tempdir);
use POSIX ();
use Test::Nginx::Socket 'no_plan';

my $dir = tempdir(CLEANUP => 1);
$ENV{TEST_NGINX_COLLAB_BACKUP_DB} = "$dir/collab.db";
$ENV{TEST_NGINX_COLLAB_BACKUP_COPY} = "$dir/backup/collab-copy.db";
mkdir "$dir/backup" or die "mkdir $dir/backup: $!\n";

our $Live = $CollabTest::HttpConfig;
$Live =~ s{logs/collab\.db}{$ENV{TEST_NGINX_COLLAB_BACKUP_DB}};

our $Copy = $CollabTest::HttpConfig;
$Copy =~ s{logs/collab\.db}{$ENV{TEST_NGINX_COLLAB_BACKUP_COPY}};

# one line of sqlite3's answer, or '' (the shell's errors go to the
# test's stderr)
sub sql {
    my ($db, $query) = @_;
    open my $fh, '-|', 'sqlite3', '-readonly', $db, '.timeout 5000', $query
        or return '';
    my $line = <$fh> // '';
    close $fh;
    chomp $line;
    return $line;
}

workers(2);
master_on();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: writes, and sqlite3 .backup of the live database meanwhile
--- http_config eval: $::Live
--- init
my $root = Test::Nginx::Socket::server_root();
my $db = $ENV{TEST_NGINX_COLLAB_BACKUP_DB};
my $copy = $ENV{TEST_NGINX_COLLAB_BACKUP_COPY};
system("sqlite3", $db, ".timeout 5000",
       "INSERT INTO accounts (id, name, created_at)"
       . " VALUES ('acc_BackupBackupBackup0000', 'B', 0)",
       "INSERT INTO rooms (id, account_id, name, metadata, created_at,"
       . " updated_at) VALUES ('33333333-4444-4555-8666-777777777777',"
       . " 'acc_BackupBackupBackup0000', 'r', '{}', 0, 0)") == 0
    or die "sqlite3 failed\n";
unlink "$root/logs/go", $copy, "$copy.done";

# the backup, once the first batch is written: its process leaves with
# POSIX::_exit, since the test's END blocks would stop nginx
if (fork() == 0) {
    for (1 .. 1200) {
        last if -e "$root/logs/go";
        select(undef, undef, undef, 0.05);
    }
    my $rc = system("sqlite3", $db, ".timeout 5000", ".backup '$copy'");
    my $live = main::sql($db, "SELECT count(*) FROM users");
    if (open my $out, '>', "$copy.done.new") {
        print $out "rc $rc, live users after the backup: $live\n";
        close $out;
        rename "$copy.done.new", "$copy.done";
    }
    POSIX::_exit(0);
}
--- request
POST /t
as admin
repeat 20 POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users {"userId":"a{i}"}
write go 1
repeat 20 POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users {"userId":"b{i}"}
repeat 20 POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users {"userId":"c{i}"}
repeat 20 POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users {"userId":"d{i}"}
repeat 20 POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users {"userId":"e{i}"}
repeat 20 POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users {"userId":"f{i}"}
repeat 20 POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users {"userId":"g{i}"}
repeat 20 POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users {"userId":"h{i}"}
repeat 20 POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users {"userId":"i{i}"}
repeat 20 POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users {"userId":"j{i}"}
--- response_body_like chomp
^POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users x20 201:20\b.*
POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users x20 201:20\b.*
POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users x20 201:20\b.*
POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users x20 201:20\b.*
POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users x20 201:20\b.*
POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users x20 201:20\b.*
POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users x20 201:20\b.*
POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users x20 201:20\b.*
POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users x20 201:20\b.*
POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users x20 201:20\b.*$
--- timeout: 60



=== TEST 2: the copy passes integrity_check and is consistent
--- http_config eval: $::Live
--- init
my $db = $ENV{TEST_NGINX_COLLAB_BACKUP_DB};
my $copy = $ENV{TEST_NGINX_COLLAB_BACKUP_COPY};
for (1 .. 1200) {
    last if -e "$copy.done";
    select(undef, undef, undef, 0.05);
}
my $done = '';
if (open my $fh, '<', "$copy.done") {
    $done = <$fh> // '';
    chomp $done;
}
Test::More::like($done, qr/^rc 0,/,
                 "t/075-backup.t TEST 2: sqlite3 .backup succeeded ($done)");
Test::More::is(main::sql($copy, "PRAGMA integrity_check"), 'ok',
               "t/075-backup.t TEST 2: the copy passes integrity_check");
my $users = main::sql($copy, "SELECT count(*) FROM users");
my $events = main::sql($copy, "SELECT count(*) FROM events"
                              . " WHERE type = 'user.created'");
Test::More::ok($users =~ /^[0-9]+$/ && $users >= 20 && $users <= 200,
               "t/075-backup.t TEST 2: the copy has the 20 users written"
               . " before it, and at most 200 ($users)");
Test::More::is($events, $users,
               "t/075-backup.t TEST 2: one user.created event per user"
               . " in the copy");
Test::More::is(main::sql($copy, "SELECT count(*) FROM users"
                                . " WHERE user_id LIKE 'a%'"), 20,
               "t/075-backup.t TEST 2: every user of the first batch");
Test::More::is(main::sql($db, "SELECT count(*) FROM users"), 200,
               "t/075-backup.t TEST 2: the live database has all 200");
--- request
POST /t
as admin
count GET /v1/accounts/acc_BackupBackupBackup0000/events?limit=100
GET /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users/j19
--- response_body_like chomp
^GET /v1/accounts/acc_BackupBackupBackup0000/events\?limit=100 200 100 items, more
GET /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users/j19 200 \{"userId":"j19",.*$
--- timeout: 90



=== TEST 3: an nginx on the copy serves it and writes to it
--- http_config eval: $::Copy
--- request
POST /t
as admin
GET /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users/a0
GET /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users/a19
POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users {"userId":"restored"}
--- response_body_like chomp
^GET /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users/a0 200 \{"userId":"a0",.*
GET /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users/a19 200 \{"userId":"a19",.*
POST /v1/accounts/acc_BackupBackupBackup0000/rooms/33333333-4444-4555-8666-777777777777/users 201 \{"userId":"restored",.*$
