#!/usr/bin/perl
# Limits and abuse: each ends its execution with "timeout" or "error" and
# a message naming the directive, and leaves the other executions of the
# same runner running.  No time is asserted.

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

# an execution that needs a few turns of the loop: it must finish
# successfully beside each abuse
my $bystander = "export default async function () {\n"
    . "  let n = 0;\n"
    . "  for (let i = 0; i < 5; i++) {\n"
    . "    await new Promise((r) => setTimeout(r, 20));\n"
    . "    n += i;\n  }\n  return n;\n}\n";

sub abuse {
    my ($name, $js, $status, $message, %limits) = @_;

    my $other = $r->start_run($bystander);
    my $id = $r->start_run($js, limits => { timeoutMs => 1500, %limits });

    my $f = $r->frame_for($id, 60);
    is($f->{status}, $status, "$name ends with $status");
    like($f->{error}{message} // '', $message, "... $name: the message");

    my $o = $r->frame_for($other, 60);
    is_deeply([$o->{status}, $o->{result}], ['success', 10],
              "... $name: the other execution ran to its end");

    return $f;
}

abuse('for(;;){}', "export default async function () { for (;;) {} }",
      'timeout', qr/^collab_workflow_timeout: the execution ran longer than 1500ms$/);

abuse('for(;;) await null',
      "export default async function () { for (;;) await null; }",
      'timeout', qr/^collab_workflow_timeout: /);

abuse('a loop of timers',
      "export default async function () {\n"
      . "  for (;;) await new Promise((r) => setTimeout(r, 0));\n}\n",
      'timeout', qr/^collab_workflow_timeout: /);

abuse('a promise that never settles',
      "export default async function () { await new Promise(() => {}); }",
      'error', qr/never settled/);

abuse('a memory bomb',
      "export default async function () {\n"
      . "  const a = [];\n"
      . "  for (;;) a.push('x'.repeat(4096) + a.length);\n}\n",
      'error', qr/^collab_workflow_memory: the execution needed more than 32m of memory$/,
      memory => 32 * 1024 * 1024);

abuse('one huge allocation',
      "export default async function () {\n"
      . "  return new ArrayBuffer(1024 * 1024 * 1024).byteLength;\n}\n",
      'error', qr/^collab_workflow_memory: /, memory => 32 * 1024 * 1024);

my $f = abuse('deep recursion',
      "export default async function () {\n"
      . "  function down(n) { return down(n + 1) + 1; }\n"
      . "  return down(0);\n}\n",
      'error', qr/stack overflow/);
ok(length $f->{error}{stack} < 8192, '... its stack is cut short');

abuse('a 2 MiB result',
      "export default async function () {\n"
      . "  return 'x'.repeat(2 * 1024 * 1024);\n}\n",
      'error', qr/^collab_workflow_max_result: the result is larger than 64k of JSON$/);

$f = abuse('64 KiB and more of logs',
      "export default async function () {\n"
      . "  for (let i = 0; i < 1000; i++) console.log('y'.repeat(100));\n}\n",
      'error', qr/^collab_workflow_max_logs: the workflow logged more than 64k of messages$/);
is(scalar @{$f->{logs}}, 655, '... the logs up to the limit are kept');

$f = abuse('51 fetches',
      "export default async function () {\n"
      . "  for (let i = 0; i < 51; i++) {\n"
      . "    await fetch('http://127.0.0.1:$port/json');\n  }\n}\n",
      'error', qr/^collab_workflow_max_fetches: the workflow started more than 50 fetches$/);
is(scalar @{$f->{fetches}}, 50, '... the 50 fetches are listed');

abuse('catching the limit does not help',
      "export default async function () {\n"
      . "  for (let i = 0; i < 60; i++) {\n"
      . "    try { await fetch('http://127.0.0.1:$port/json'); } catch (e) {}\n"
      . "  }\n  return 'escaped';\n}\n",
      'error', qr/^collab_workflow_max_fetches: /, maxFetches => 3);

abuse('an answer over the fetch size',
      "export default async function () {\n"
      . "  const r = await fetch('http://127.0.0.1:$port/big?bytes=200000');\n"
      . "  return (await r.text()).length;\n}\n",
      'error', qr{^collab_workflow_fetch_max_size: the answer of http://127\.0\.0\.1:\d+/big\?bytes=200000 is larger than 100k$},
      fetchMaxSize => 100 * 1024);

abuse('a server that never answers',
      "export default async function () {\n"
      . "  await fetch('http://127.0.0.1:$port/hang');\n}\n",
      'error', qr{^collab_workflow_fetch_timeout: no complete answer from http://127\.0\.0\.1:\d+/hang within 300ms$},
      fetchTimeoutMs => 300);

abuse('an error thrown from a timer',
      "export default async function () {\n"
      . "  setTimeout(() => { throw new RangeError('in a timer'); }, 1);\n"
      . "  await new Promise((r) => setTimeout(r, 500));\n}\n",
      'error', qr/^in a timer$/);

abuse('an import of std',
      "import * as std from 'std';\nexport default async () => std;\n",
      'error', qr/^import of "std": workflows cannot import modules$/);

abuse('an import of os',
      "import { exec } from 'os';\nexport default async () => exec;\n",
      'error', qr/^import of "os": workflows cannot import modules$/);

abuse('no default export',
      "export const x = 1;\n",
      'error', qr/no default export function/);

abuse('a result that is no JSON',
      "export default async function () { return { n: 1n }; }",
      'error', qr/^the result cannot be written as JSON: TypeError/);

$f = $r->run("export default async function () {\n"
             . "  const r = await fetch('http://127.0.0.1:$port/big?bytes=100000');\n"
             . "  return (await r.arrayBuffer()).byteLength;\n}\n");
is($f->{result}, 100000, 'an answer within the default size is read');

$f = $r->run("export default async function () { return undefined; }");
is_deeply([$f->{status}, $f->{result}], ['success', undef],
          'no return value is null');

$f = $r->run("export default function () { return { plain: true }; }");
is_deeply($f->{result}, { plain => JSON::PP::true },
          'a plain function works too');

my ($status, $stderr) = $r->stop;
is($status, 0, 'the runner exits cleanly after all that');
is($stderr, '', '... with nothing on stderr (no engine memory leaked)');

done_testing;
