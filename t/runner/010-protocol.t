#!/usr/bin/perl
# The socket protocol of collab-runner (docs/runner.md): the ready frame,
# compile answers, error frames, cancel, and an orderly exit when the
# module closes its side.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use CollabRunner;

plan skip_all => 'COLLAB_RUNNER and COLLAB_SCHEMA are not set (make test-unit sets them)'
    unless CollabRunner::runner_binary();

my $dir = CollabRunner::tempfolder();
my $db = CollabRunner::database($dir);
my $r = CollabRunner->start(dir => $dir, database => $db);

my $ready = $r->ready;
is($ready->{type}, 'ready', 'the runner says it is ready, first');
like($ready->{version}, qr/^\d+\.\d+\.\d+$/, '... with its version');

my $c = $r->compile("export default async function (event) {\n"
                    . "  return event.data;\n}\n");
is_deeply($c, { type => 'compiled', id => $c->{id}, ok => JSON::PP::true,
                js => "export default async function (event) {\n"
                      . "  return event.data;\n}\n",
                sourceMap => undef },
          'JavaScript compiles to itself, with no source map');

$c = $r->compile("export default function () {\n  let x = ;\n}\n");
is($c->{ok}, JSON::PP::false, 'a syntax error does not compile');
is($c->{line}, 2, '... its line (1-based)');
is($c->{column}, 11, '... its column (1-based)');
like($c->{message}, qr/unexpected token/, '... and the engine\'s message');

$c = $r->compile("import * as std from 'std';\n"
                 . "export default function () {}\n");
is($c->{ok}, JSON::PP::false, 'an import does not compile');
like($c->{message}, qr/import of "std": workflows cannot import modules/,
     '... with a message that says so');
is($c->{line}, 1, '... at the line of the import');

$c = $r->compile("import { readFile } from 'os';\nexport default 1;\n");
like($c->{message}, qr/"os"/, 'no os module either');

$c = $r->compile("export default function () {}", 'coffeescript');
is($c->{ok}, JSON::PP::false, 'an unknown language is refused');
is($c->{line}, undef, '... with no position');

$r->send_frame({ type => 'compile', id => 7, code => 'export default 1',
                 language => 'javascript' });
my $f = $r->next_frame(30);
is($f->{id}, 7, 'the id comes back as it was sent, whatever its type');

$r->send_frame({ type => 'unknown', id => 'x1' });
$f = $r->frame_for('x1');
is_deeply($f, { type => 'error', id => 'x1',
                message => 'unknown frame type' },
          'an unknown frame type is answered with an error frame');

$r->send_frame('[1,2]');
$f = $r->next_frame(30);
is($f->{type}, 'error', 'a frame that is no object gets an error frame');

$r->send_frame({ type => 'run', id => 'exe_bad', js => 'export default 1',
                 event => 'not an object', accountId => 'acc_1' });
$f = $r->frame_for('exe_bad');
is_deeply($f, { type => 'error', id => 'exe_bad',
                message => 'event must be an object' },
          'a run frame with a bad member is refused, the member named');

$r->send_frame({ type => 'run', id => 'exe_lim', js => 'export default 1',
                 event => {}, accountId => 'acc_1',
                 limits => { timeoutMs => -5 } });
$f = $r->frame_for('exe_lim');
is($f->{message}, 'limits.timeoutMs must be a whole number from 0',
   'a bad limit is refused, named');

# cancel: an execution awaiting a timer ends at once
my $id = $r->start_run("export default async function () {\n"
                       . "  await new Promise((r) => setTimeout(r, 20000));\n"
                       . "}\n");
$r->send_frame({ type => 'cancel', id => $id });
$f = $r->frame_for($id, 10);
is($f->{status}, 'error', 'a cancelled execution ends with an error');
is($f->{error}{message}, 'the execution was cancelled', '... saying so');

# a result frame has every member, in this order
$f = $r->run("export default function () { return 1; }");
is(join(',', sort keys %$f),
   join(',', sort qw(type id status result error logs fetches startedAt
                     finishedAt durationMs)),
   'a result frame has every member of the protocol');
like($f->{startedAt}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
     'times are ISO 8601 with milliseconds');

# the module closes its side: executions under way still finish
$id = $r->start_run("export default async function () {\n"
                    . "  await new Promise((r) => setTimeout(r, 200));\n"
                    . "  return 'done';\n}\n");
shutdown($r->{sock}, 1);
$f = $r->frame_for($id, 30);
is($f->{result}, 'done',
   'after the module closes its side, the executions under way finish');

my ($status, $stderr) = $r->stop;
is($status, 0, 'then the runner exits cleanly');
is($stderr, '', '... with nothing on stderr');

done_testing;
