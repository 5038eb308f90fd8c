#!/usr/bin/perl
# TypeScript: esbuild (run by the compile helper) strips the types and
# keeps the ES module; errors carry the TypeScript source's line and
# column, and stacks at run time are in TypeScript positions too.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use CollabRunner;

plan skip_all => 'COLLAB_RUNNER and COLLAB_SCHEMA are not set (make test-unit sets them)'
    unless CollabRunner::runner_binary();
plan skip_all => 'no esbuild' unless -x '/usr/bin/esbuild';

my $dir = CollabRunner::tempfolder();
my $db = CollabRunner::database($dir);
my $r = CollabRunner->start(dir => $dir, database => $db);
$r->ready;

my $ts = <<'TS';
interface Envelope {
    event: string;
    data: { userId: string; roomId: string };
}

type Verdict = { user: string; length: number };

function check(e: Envelope): Verdict {
    if (e.data.userId === 'user-bad') {
        throw new TypeError(`bad user ${e.data.userId}`);
    }
    return { user: e.data.userId, length: e.data.userId.length };
}

export default async function (event: Envelope, bindings: unknown): Promise<Verdict> {
    const verdict: Verdict = check(event);
    return verdict;
}
TS

my $c = $r->compile($ts, 'typescript');
ok($c->{ok}, 'TypeScript compiles');
unlike($c->{js}, qr/interface|: Envelope/, '... its types are gone');
like($c->{js}, qr/export\s*\{/, '... the module stays a module');
my $map = JSON::PP->new->decode($c->{sourceMap});
is($map->{version}, 3, '... with a version 3 source map');
is_deeply($map->{sources}, ['workflow.ts'], '... of workflow.ts');

my $f = $r->run($c->{js}, sourceMap => $c->{sourceMap});
is_deeply($f->{result}, { user => 'user-001', length => 8 },
          'the compiled module runs');

$f = $r->run($c->{js}, sourceMap => $c->{sourceMap},
             event => { event => 'user.created',
                        data => { userId => 'user-bad', roomId => 'r' },
                        timestamp => '2026-05-29T10:06:00.000Z' });
is($f->{status}, 'error', 'a throw is an error');
is($f->{error}{message}, 'bad user user-bad', '... with its message');
my @frames = split /\n/, $f->{error}{stack};
is($frames[0], 'TypeError: bad user user-bad', '... the stack says what');
like($frames[1], qr/^    at check \(workflow\.ts:10:\d+\)$/,
     '... where, in the TypeScript lines: the throw on line 10');
like($frames[2], qr/^    at default \(workflow\.ts:16:\d+\)$/,
     '... called from line 16, in the default export');

$f = $r->run("export default async function () {\n"
             . "  console.log(new Error('logged').stack);\n}\n");
like($f->{logs}[0]{message}, qr/^    at default \(workflow\.js:2:\d+\)$/,
     'a JavaScript stack keeps the workflow\'s own lines');

$c = $r->compile("const x: number = 1;\nexport default function (e) {\n"
                 . "  return x +;\n}\n", 'typescript');
is($c->{ok}, JSON::PP::false, 'a TypeScript syntax error');
is($c->{line}, 3, '... on line 3 of the TypeScript');
is($c->{column}, 13, '... column 13');
is($c->{message}, 'Unexpected ";"', '... with esbuild\'s message');

$c = $r->compile("const s = 'éé';\nlet a: number = 1\nlet é b c\n",
                 'typescript');
is_deeply([$c->{line}, $c->{column}], [3, 7],
          'columns count characters, not bytes');

$c = $r->compile("import fs from 'fs';\nexport default () => fs;\n",
                 'typescript');
is($c->{ok}, JSON::PP::false, 'a TypeScript import is refused as well');
is_deeply([$c->{line}, $c->{column}], [1, 16],
          '... at its position in the TypeScript');

my ($status, $stderr) = $r->stop;
is($stderr, '', 'nothing on stderr');

my $no = CollabRunner->start(dir => $dir, database => $db,
                             args => ['--esbuild', '/nonexistent/esbuild']);
$no->ready;
$c = $no->compile("let a: number = 1;\nexport default () => a;\n",
                  'typescript');
is_deeply([$c->{ok}, $c->{message}, $c->{line}],
          [JSON::PP::false, 'TypeScript cannot be compiled here: esbuild '
           . 'is not available', undef],
          'without esbuild, TypeScript is refused with a message');
$c = $no->compile("export default () => 1;\n");
ok($c->{ok}, '... and JavaScript still compiles');
$no->stop;

done_testing;
