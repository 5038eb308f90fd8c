#!/usr/bin/perl
# One runner, many executions at once: an execution awaiting a fetch or a
# timer holds no other.  Order is checked, never durations.

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
my (undef, $port) = CollabRunner::http_server();

my $r = CollabRunner->start(dir => $dir, database => $db,
                            args => ['--allow-private']);
$r->ready;

my $slow = "export default async function (event) {\n"
    . "  const r = await fetch('http://127.0.0.1:$port/slow?ms=1500');\n"
    . "  return [event.data.userId, await r.text()];\n}\n";

my $a = $r->start_run($slow, event => { event => 'x', data => { userId => 'a' } });
my $b = $r->start_run($slow, event => { event => 'x', data => { userId => 'b' } });

my $fa = $r->frame_for($a);
my $fb = $r->frame_for($b);

is_deeply($fa->{result}, ['a', 'slow 1500'], 'the first slow execution');
is_deeply($fb->{result}, ['b', 'slow 1500'], 'the second one');
ok($fb->{startedAt} lt $fa->{finishedAt}
   && $fa->{startedAt} lt $fb->{finishedAt},
   'they overlapped: each started before the other finished');

# a timer-bound execution and a quick one: the quick one finishes first
my $long = $r->start_run("export default async function () {\n"
    . "  await new Promise((r) => setTimeout(r, 1000));\n"
    . "  return 'long';\n}\n");
my $quick = $r->start_run("export default async function () {\n"
    . "  return 'quick';\n}\n");

my $first = $r->next_frame(30);
is($first->{id}, $quick, 'an execution awaiting a timer holds no other');
is($r->frame_for($long)->{result}, 'long', '... and finishes after');

# fifty at once, each with its fetch
my @ids = map {
    $r->start_run("export default async function () {\n"
                  . "  const r = await fetch('http://127.0.0.1:$port/json');\n"
                  . "  return [$_, (await r.json()).hello];\n}\n")
} 1 .. 50;

my $good = 0;
for my $i (0 .. $#ids) {
    my $f = $r->frame_for($ids[$i]);
    $good++ if $f && $f->{status} eq 'success'
               && $f->{result}[0] == $i + 1
               && $f->{result}[1] eq 'world';
}
is($good, 50, 'fifty executions at once each get their own answer');

my ($s, $e) = $r->stop;
is($s, 0, 'the runner exits cleanly');
is($e, '', 'nothing on stderr');

done_testing;
