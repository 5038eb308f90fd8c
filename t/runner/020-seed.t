#!/usr/bin/perl
# The product document's workflows, unchanged, and its bindings example
# value by value: room.get(), room.getUsers(), store.get/getAll() and
# files.list() answer as the REST API writes these objects, scoped to the
# execution's account and room.  The Slack example posts to
# https://hooks.slack.com/... as written: the test's DNS server sends that
# name to 127.0.0.1, where a TLS server with a certificate of the test CA
# for hooks.slack.com listens on port 443 (root only), so the workflow's
# code runs as it is, with --allow-private.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use POSIX qw(strftime);
use Test::More;
use CollabRunner;

plan skip_all => 'COLLAB_RUNNER and COLLAB_SCHEMA are not set (make test-unit sets them)'
    unless CollabRunner::runner_binary();

my $q = \&CollabRunner::q;
my $T0 = 1780049160000;          # 2026-05-29T10:06:00.000Z
my $T1 = $T0 + 1234;

sub iso { my $ms = shift;
          strftime('%Y-%m-%dT%H:%M:%S', gmtime int($ms / 1000))
          . sprintf('.%03dZ', $ms % 1000) }

my $sql = <<"SQL";
INSERT INTO accounts (id, name, created_at) VALUES ('acc_1', 'One', $T0),
  ('acc_2', 'Two', $T0);
INSERT INTO rooms (id, account_id, name, metadata, created_at, updated_at)
  VALUES ('room-1', 'acc_1', 'Standup', '{"team":"core","n":1.5}', $T0, $T1),
         ('room-2', 'acc_2', 'Other account', '{}', $T0, $T0);
INSERT INTO users (room_id, user_id, name, email, metadata, created_at,
  updated_at) VALUES
  ('room-1', 'user-001', 'Ada', 'ada\@example.com', '{"role":"lead"}', $T0, $T1),
  ('room-1', 'user-002', NULL, NULL, '{}', $T1, $T1),
  ('room-2', 'user-009', 'Eve', NULL, '{}', $T0, $T0);
INSERT INTO store_items (room_id, store, key, value, updated_at) VALUES
  ('room-1', 'tasks', 'task-1', '{"title":"Write docs","done":false}', $T0),
  ('room-1', 'tasks', 'task-2', '[1,2,"three"]', $T0),
  ('room-1', 'settings', 'user-001', '{"theme":"dark"}', $T0),
  ('room-2', 'tasks', 'task-1', '"not yours"', $T0);
INSERT INTO files (room_id, name, blob, size, content_type, uploaded_at)
  VALUES ('room-1', 'docs/readme.md', 'blob_abc123', 12, 'text/markdown', $T1),
         ('room-1', 'a.png', 'blob_def456', 2048, 'image/png', $T0),
         ('room-2', 'secret.txt', 'blob_zzz', 1, 'text/plain', $T0);
SQL

my $dir = CollabRunner::tempfolder();
my $db = CollabRunner::database($dir, $sql);
my $r = CollabRunner->start(dir => $dir, database => $db);
$r->ready;

# "Create a Workflow": the code exactly as the curl command sends it
my $log_participants = "export default async function(event, { room }) {\n"
    . "  const roomData = await room.get();\n"
    . "  console.log(`[\${event.event}] User \${event.data.userId} in room "
    . "\${roomData.name}`);\n"
    . "  return { logged: true };\n}";

my $c = $r->compile($log_participants);
ok($c->{ok}, 'the first workflow of the document compiles');

my $f = $r->run($c->{js});
is($f->{status}, 'success', 'it runs');
is_deeply($f->{result}, { logged => JSON::PP::true }, '... returns '
          . '{ logged: true }');
is(scalar @{$f->{logs}}, 1, '... logs one line');
is($f->{logs}[0]{level}, 'log', '... at level log');
is($f->{logs}[0]{message}, '[participant.joined] User user-001 in room '
   . 'Standup', '... with the room\'s name');

# "Workflow Bindings"
my $bindings_example = <<'JS';
export default async function(event, bindings) {
  // event.event    -- "participant.joined", etc.
  // event.data     -- event-specific payload

  const { store, room, files } = bindings;

  // Read from KV stores
  const value = await store.get('tasks', 'task-1');
  const all = await store.getAll('tasks');

  // Read room and user data
  const roomData = await room.get();
  const users = await room.getUsers();

  // Work with files
  const fileList = await files.list();

  return { success: true };
}
JS

$f = $r->run($r->compile($bindings_example)->{js});
is_deeply([$f->{status}, $f->{result}], ['success',
          { success => JSON::PP::true }], 'the bindings example runs');

# the same reads, value by value
my $values = <<'JS';
export default async function(event, { store, room, files }) {
  return {
    value: await store.get('tasks', 'task-1'),
    missing: await store.get('tasks', 'task-9'),
    all: await store.getAll('tasks'),
    none: await store.getAll('nothing'),
    settings: await store.get('settings', event.data.userId),
    room: await room.get(),
    users: await room.getUsers(),
    files: await files.list(),
  };
}
JS

my $js = $r->compile($values)->{js};
$f = $r->run($js, online => ['user-002']);
my $v = $f->{result};

is_deeply($v->{value}, { title => 'Write docs', done => JSON::PP::false },
          'store.get() answers the value');
is($v->{missing}, undef, 'store.get() of a missing key answers null');
is_deeply($v->{all}, { 'task-1' => { title => 'Write docs',
                                     done => JSON::PP::false },
                       'task-2' => [1, 2, 'three'] },
          'store.getAll() answers key -> value of that store only');
is_deeply($v->{none}, {}, 'store.getAll() of an empty store: {}');
is_deeply($v->{settings}, { theme => 'dark' }, 'another store');
is_deeply($v->{room}, { id => 'room-1', name => 'Standup',
                        metadata => { team => 'core', n => 1.5 },
                        createdAt => iso($T0), updatedAt => iso($T1) },
          'room.get() answers the room as the API does');
is_deeply($v->{users}, [
    { userId => 'user-002', roomId => 'room-1', name => undef,
      email => undef, metadata => {}, online => JSON::PP::true,
      createdAt => iso($T1), updatedAt => iso($T1) },
    { userId => 'user-001', roomId => 'room-1', name => 'Ada',
      email => 'ada@example.com', metadata => { role => 'lead' },
      online => JSON::PP::false, createdAt => iso($T0),
      updatedAt => iso($T1) },
], 'room.getUsers(): the users, newest first, online from the run frame');
is_deeply($v->{files}, [
    { name => 'a.png', size => 2048, contentType => 'image/png',
      etag => '"blob_def456"', uploadedAt => iso($T0) },
    { name => 'docs/readme.md', size => 12, contentType => 'text/markdown',
      etag => '"blob_abc123"', uploadedAt => iso($T1) },
], 'files.list(): metadata by name, the ETag nginx serves');

# the exact bytes: the API's JSON writer wrote the room
$f = $r->run("export default async (e, { room }) => "
             . "JSON.stringify(await room.get());");
is($f->{result}, '{"id":"room-1","name":"Standup","metadata":{"team":'
   . '"core","n":1.5},"createdAt":"' . iso($T0) . '","updatedAt":"'
   . iso($T1) . '"}', 'room.get() is the API\'s object, key for key');

# scope: another account's room is not there
$f = $r->run($js, accountId => 'acc_1', roomId => 'room-2');
is_deeply($f->{result}, { value => undef, missing => undef, all => {},
                          none => {}, settings => undef, room => undef,
                          users => [], files => [] },
          'a room of another account reads as nothing');

$f = $r->run($js, roomId => undef);
is_deeply($f->{result}, { value => undef, missing => undef, all => {},
                          none => {}, settings => undef, room => undef,
                          users => [], files => [] },
          'an event with no room: null and empty answers');

$f = $r->run("export default async (e, { store }) => store.get(1, 2)");
is($f->{status}, 'error', 'store.get() with a number for a name');
like($f->{error}{message}, qr/store\.get: the store name must be a string/,
     '... is refused with a message');

$f = $r->run("export default async (e, b) => { try { b.store.get = null; }"
             . " catch (x) { return [Object.isFrozen(b.store), x.name]; } }");
is_deeply($f->{result}, [JSON::PP::true, 'TypeError'],
          'the bindings are frozen');

# "Auto-Create Welcome Store Entry"
my $welcome = <<'JS';
export default async function(event, { store }) {
  if (event.event !== 'user.created') return;

  // Note: workflow store access is read-only
  // Use this to check existing state, then use fetch()
  // to call external APIs with the data
  const existing = await store.get('settings', event.data.userId);
  console.log('User settings:', existing);

  return { checked: true };
}
JS

$js = $r->compile($welcome)->{js};
$f = $r->run($js, event => { event => 'user.created',
                             data => { userId => 'user-001',
                                       roomId => 'room-1' },
                             timestamp => '2026-05-29T10:06:00.000Z' });
is_deeply($f->{result}, { checked => JSON::PP::true },
          'the welcome example returns { checked: true }');
is($f->{logs}[0]{message}, "User settings: { theme: 'dark' }",
   '... and logs the settings as Node would');

$f = $r->run($js, event => { event => 'user.created',
                             data => { userId => 'user-002',
                                       roomId => 'room-1' },
                             timestamp => '2026-05-29T10:06:00.000Z' });
is($f->{logs}[0]{message}, 'User settings: null',
   '... null for a user with no settings');

$f = $r->run($js);
is_deeply([$f->{status}, $f->{result}, $f->{logs}], ['success', undef, []],
          '... and for another event returns nothing: null');

my ($status, $stderr) = $r->stop;
is($stderr, '', 'the runner wrote nothing on stderr');

# "Notify Slack on Session Start", against the test's own servers
SKIP: {
    skip 'port 443 needs root', 8 if $> != 0;
    skip 'no openssl', 8 if system('openssl version > /dev/null 2>&1') != 0;

    my $tls = "$CollabRunner::TOP/t/lib/tls";
    open my $ext, '>', "$dir/slack.ext";
    print $ext "subjectAltName=DNS:hooks.slack.com\n";
    close $ext;

    system("openssl req -new -newkey rsa:2048 -nodes -subj "
           . "/CN=hooks.slack.com -keyout $dir/slack.key -out $dir/slack.csr"
           . " > /dev/null 2>&1") == 0
        && system("openssl x509 -req -in $dir/slack.csr -CA $tls/ca.crt "
                  . "-CAkey $tls/ca.key -set_serial 4243 -days 2 -extfile "
                  . "$dir/slack.ext -out $dir/slack.crt > /dev/null 2>&1")
           == 0
        or die "openssl failed\n";

    my ($http) = CollabRunner::http_server(port => 443,
                                           record => "$dir/slack.log",
                                           cert => "$dir/slack.crt",
                                           key => "$dir/slack.key");
    skip 'port 443 is taken', 8 unless $http;

    my (undef, $dns) = CollabRunner::dns_server('127.0.0.1');

    my $slack = <<'JS';
export default async function(event, { room }) {
  if (event.event !== 'session.started') return;

  const roomData = await room.get();

  await fetch('https://hooks.slack.com/services/YOUR/WEBHOOK/URL', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      text: `Collaboration session started in "${roomData.name}"`,
    }),
  });

  return { notified: true };
}
JS

    my $r2 = CollabRunner->start(dir => $dir, database => $db,
        args => ['--resolver', "127.0.0.1:$dns", '--trusted-certificate',
                 "$tls/ca.crt", '--allow-private']);
    $r2->ready;

    my $c2 = $r2->compile($slack);
    ok($c2->{ok}, 'the Slack example compiles');

    $f = $r2->run($c2->{js}, event => {
        event => 'session.started',
        data => { roomId => 'room-1', sessionId => 'ses_1',
                  userId => 'user-001' },
        timestamp => '2026-05-29T10:06:00.000Z' });

    is($f->{status}, 'success', 'the Slack example runs');
    is_deeply($f->{result}, { notified => JSON::PP::true },
              '... returns { notified: true }');
    is_deeply([map { [$_->{url}, $_->{status}] } @{$f->{fetches}}],
              [['https://hooks.slack.com/services/YOUR/WEBHOOK/URL', 200]],
              '... after one fetch, answered 200 over verified TLS');

    open my $fh, '<', "$dir/slack.log";
    my @posts = map { JSON::PP->new->decode($_) } <$fh>;
    is(scalar @posts, 1, 'the Slack endpoint got one request');
    is($posts[0]{method}, 'POST', '... a POST');
    is($posts[0]{headers}{'content-type'}, 'application/json',
       '... of JSON');
    is($posts[0]{body}, '{"text":"Collaboration session started in '
       . '\"Standup\""}', '... with the room\'s name in the text');

    $r2->stop;
}

done_testing;
