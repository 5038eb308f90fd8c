#!/usr/bin/perl
# The runner's read-only connection: opened (with its write-ahead log and
# index) before the sandbox closes, it still sees what the module writes
# afterwards, and it never writes.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use CollabRunner;

plan skip_all => 'COLLAB_RUNNER and COLLAB_SCHEMA are not set (make test-unit sets them)'
    unless CollabRunner::runner_binary();

my $dir = CollabRunner::tempfolder();
my $db = CollabRunner::database($dir,
    "INSERT INTO accounts (id, name, created_at) VALUES ('acc_1', 'A', 1);");

my $r = CollabRunner->start(dir => $dir, database => $db);
$r->ready;

my $js = "export default async (e, { room, store }) =>\n"
         . "  [(await room.get())?.name ?? null,\n"
         . "   await store.get('s', 'k')];\n";

my $f = $r->run($js, roomId => 'room-late');
is_deeply($f->{result}, [undef, undef], 'a room that is not there yet');

system('sqlite3', $db,
       "INSERT INTO rooms (id, account_id, name, metadata, created_at,"
       . " updated_at) VALUES ('room-late', 'acc_1', 'Late', '{}', 1, 1);"
       . "INSERT INTO store_items VALUES ('room-late', 's', 'k', '42', 1);")
    == 0 or die "sqlite3 failed\n";

$f = $r->run($js, roomId => 'room-late');
is_deeply($f->{result}, ['Late', 42],
          'what the module writes after the runner started is read');

system('sqlite3', $db, "UPDATE store_items SET value = '43';") == 0
    or die "sqlite3 failed\n";

$f = $r->run($js, roomId => 'room-late');
is($f->{result}[1], 43, '... and every change after that');

my ($status, $stderr) = $r->stop;
is($stderr, '', 'nothing on stderr');

my $bad = CollabRunner->start(dir => $dir, database => "$dir/missing.db");
is($bad->next_frame(10), undef, 'a database that is not there: no ready');
($status, $stderr) = $bad->stop;
isnt($status, 0, '... the runner exits with an error');
like($stderr, qr/collab-runner: cannot open the database/, '... and says why');

done_testing;
