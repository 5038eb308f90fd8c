# No ghosts after a crash of the whole server: with streams open, every
# nginx process is killed with -9; the next nginx (the second block, on
# the same database) closes at start-up what the database holds as open:
# each participant leaves, then the session closes, with their events.

use lib 't/inc';
use CollabTest;
use CollabPresence;
use File::Temp qw(tempdir);
use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_COLLAB_RESTART_DB} = tempdir(CLEANUP => 1) . "/collab.db";

our ($Account, $Room);

our $HttpConfig = CollabPresence::http_config('5s');
$HttpConfig =~ s{logs/collab\.db}{$ENV{TEST_NGINX_COLLAB_RESTART_DB}};

our $Config = $CollabPresence::Config;

workers(2);
master_on();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: two participants online, then kill -9 of every nginx process
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
my $run = CollabPresence::run(<<'_EOS_');
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"bot"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens {}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot {"ttl":600}
open A {ctok1}
events 5
_EOS_
($main::Account, $main::Room) = ($run->{account}, $run->{room});

# once the transcript is fetched, the master and its workers are killed:
# the child leaves with POSIX::_exit, since the test's END blocks would
# stop nginx
require POSIX;
my $root = Test::Nginx::Socket::server_root();
if (fork() == 0) {
    for (1 .. 200) {
        last if `cat $root/logs/access.log 2>/dev/null` =~ m{GET /transcript};
        select(undef, undef, undef, 0.05);
    }
    my $master = CollabPresence::master_pid();
    my @workers = split /\s+/, `pgrep -P $master`;
    kill 'KILL', $master;
    kill 'KILL', grep { /^\d+$/ } @workers;
    POSIX::_exit(0);
}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"bot","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms/{room1}/users/user-001/tokens 201 {"token":"{ctok1}","expiresAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/bot 200 {"userId":"bot","since":"<ts>","connections":0,"heartbeatUntil":"<ts>"}
open A 200
events: 5
  user.created {"userId":"user-001","roomId":"{room1}"}
  user.created {"userId":"bot","roomId":"{room1}"}
  session.started {"roomId":"{room1}","sessionId":"{ses1}","userId":"bot"}
  participant.joined {"userId":"bot","roomId":"{room1}"}
  participant.joined {"userId":"user-001","roomId":"{room1}"}
--- request
GET /transcript
--- wait: 1



=== TEST 2: the next nginx closes the session at start-up: both participants leave, then the session closes
--- http_config eval: $::HttpConfig . "    # the next nginx\n"
--- config eval: $::Config
--- init
CollabPresence::run(<<'_EOS_', account => $main::Account, room => $main::Room);
events 8
GET /v1/accounts/{acc1}/rooms/{room1}/sessions
GET /v1/accounts/{acc1}/rooms/{room1}/presence
GET /v1/accounts/{acc1}/rooms/{room1}/users/bot
_EOS_
--- request
GET /transcript
--- response_body
events: 8
  user.created {"userId":"user-001","roomId":"{room1}"}
  user.created {"userId":"bot","roomId":"{room1}"}
  session.started {"roomId":"{room1}","sessionId":"{ses1}","userId":"bot"}
  participant.joined {"userId":"bot","roomId":"{room1}"}
  participant.joined {"userId":"user-001","roomId":"{room1}"}
  participant.left {"userId":"bot","roomId":"{room1}"}
  participant.left {"userId":"user-001","roomId":"{room1}"}
  session.closed {"roomId":"{room1}","sessionId":"{ses1}","durationMs":<ms>}
GET /v1/accounts/{acc1}/rooms/{room1}/sessions 200 {"data":[{"id":"{ses1}","startedAt":"<ts>","closedAt":"<ts>","durationMs":<ms>,"peakParticipants":2}],"nextCursor":null}
GET /v1/accounts/{acc1}/rooms/{room1}/presence 200 {"data":[]}
GET /v1/accounts/{acc1}/rooms/{room1}/users/bot 200 {"userId":"bot","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}


