#!/usr/bin/perl
# The sandbox: the filter refuses execve, open, processes and sockets
# other than Internet ones (--selftest-sandbox closes it and tries them);
# a running runner has no new privileges, a filter, no inherited
# descriptor, an empty environment; a workflow sees no std, os, require
# or process.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Fcntl;
use POSIX ();
use Test::More;
use CollabRunner;

plan skip_all => 'COLLAB_RUNNER and COLLAB_SCHEMA are not set (make test-unit sets them)'
    unless CollabRunner::runner_binary();

my $bin = CollabRunner::runner_binary();
my @out = `$bin --selftest-sandbox 2>&1`;
is($?, 0, '--selftest-sandbox: the sandbox holds');

for my $try ('execve\("/bin/true"\)', 'execveat', 'open\("/etc/passwd"\)',
             'open\(\) system call', 'openat\(O_CREAT\)', 'unlink',
             'socket\(AF_UNIX\)', 'socket\(AF_NETLINK\)',
             'socket\(AF_PACKET\)', 'socket\(AF_INET, SOCK_RAW\)',
             'socketpair\(AF_UNIX\)', 'fork\(\)', 'clone\(\) of a process',
             'clone3\(\)', 'ptrace\(\)')
{
    ok((grep { /^ok: $try.* refused/ } @out), "... refuses $try");
}

ok((grep { /^ok: socket\(AF_INET, SOCK_STREAM\) allowed/ } @out),
   '... allows TCP sockets (fetch)');
ok((grep { /^ok: socket\(AF_INET6, SOCK_DGRAM\) allowed/ } @out),
   '... allows UDP sockets (DNS)');

my $dir = CollabRunner::tempfolder();
my $db = CollabRunner::database($dir);

# a descriptor the runner must not keep
open my $leak, '>', "$dir/inherited" or die;
my $flags = fcntl($leak, F_GETFD, 0);
fcntl($leak, F_SETFD, $flags & ~FD_CLOEXEC);

my $r = CollabRunner->start(dir => $dir, database => $db);
$r->ready;
close $leak;

my $pid = $r->{pid};
my $status = do { local (@ARGV, $/) = "/proc/$pid/status"; <> };

SKIP: {
    skip 'the AddressSanitizer run goes without the filter', 1
        if ($ENV{COLLAB_RUNNER_ARGS} // '') =~ /--no-seccomp/;
    like($status, qr/^Seccomp:\s+2$/m, 'a running runner is filtered');
}

like($status, qr/^NoNewPrivs:\s+1$/m, '... has no new privileges');

my %fds = map { my $t = readlink("/proc/$pid/fd/$_") // '';
                ($_ => $t) } grep { /^\d+$/ }
          do { opendir my $d, "/proc/$pid/fd"; readdir $d };
ok(!(grep { $_ eq "$dir/inherited" } values %fds),
   '... keeps no inherited descriptor');
is($fds{0}, '/dev/null', '... stdin is /dev/null');
is($fds{1}, '/dev/null', '... stdout is /dev/null');
like($fds{3}, qr/^socket:/, '... fd 3 is its socket');
ok(!(grep { m{/etc/} } values %fds), '... holds no file of /etc open');

my $environ = do { local (@ARGV, $/) = "/proc/$pid/environ"; <> } // '';
$environ = join "\0", grep { !/^(ASAN|UBSAN|LSAN)_OPTIONS=/ }
           split /\0/, $environ;
is($environ, '', '... has an empty environment');

my $f = $r->run(<<'JS');
export default async function () {
  const names = ['require', 'process', 'std', 'os', 'Deno', 'Bun',
                 'module', 'exports', 'scriptArgs', 'print', 'navigator'];
  const found = names.filter((n) => typeof globalThis[n] !== 'undefined');
  let dynamic;
  try { await import('os'); dynamic = 'imported'; }
  catch (e) { dynamic = e.message; }
  return { found, dynamic,
           globals: ['fetch', 'console', 'URL', 'URLSearchParams',
                     'TextEncoder', 'TextDecoder', 'crypto', 'setTimeout',
                     'clearTimeout', 'atob', 'btoa', 'JSON', 'Date', 'Math']
                    .filter((n) => typeof globalThis[n] === 'undefined') };
}
JS
is_deeply($f->{result}{found}, [], 'no std, os, require, process ...');
like($f->{result}{dynamic}, qr/import of "os": workflows cannot import/,
     'a dynamic import is refused');
is_deeply($f->{result}{globals}, [], 'every promised global is there');

$f = $r->run(<<'JS');
export default async function () {
  const u = crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  const enc = new TextEncoder().encode('h\u00e9\u{1F600}');
  const dec = new TextDecoder().decode(new Uint8Array([0x68, 0xc3, 0xa9,
                                                       0xff]));
  let fatal;
  try { new TextDecoder('utf-8', { fatal: true })
          .decode(new Uint8Array([0xff])); }
  catch (e) { fatal = e.name; }
  const url = new URL('https://Example.com:443/a/../b?q=1#x');
  url.searchParams.append('r', 'a b');
  return { uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(u),
           bytes: bytes.length, enc: Array.from(enc), dec, fatal,
           url: url.href, host: url.host, b64: btoa('hello'),
           unb64: atob('aGVsbG8='), date: new Date(0).toISOString(),
           math: Math.max(1, 2) };
}
JS
is_deeply($f->{result}, {
    uuid => JSON::PP::true, bytes => 8,
    enc => [104, 195, 169, 240, 159, 152, 128], dec => "h\x{e9}\x{fffd}",
    fatal => 'TypeError', url => 'https://example.com/b?q=1&r=a+b#x',
    host => 'example.com', b64 => 'aGVsbG8=', unb64 => 'hello',
    date => '1970-01-01T00:00:00.000Z', math => 2 },
    'crypto, TextEncoder/Decoder, URL, atob/btoa, Date, Math');

# the parts behind console, URL, TextEncoder, btoa and fetch load on
# first use, after the workflow ran: they still use the built-ins as they
# were before it, and a property of Object.prototype named as a part is
# not taken for it
$f = $r->run(<<'JS');
export default async function () {
  const saved = [];
  let calls = 0;
  function replace(obj, name) {
    saved.push([obj, name, obj[name]]);
    obj[name] = function () { calls++; throw new Error('replaced ' + name); };
  }
  replace(Object, 'keys');
  replace(Object, 'getPrototypeOf');
  replace(Object, 'getOwnPropertyDescriptor');
  replace(Object.prototype, 'hasOwnProperty');
  replace(Reflect, 'apply');
  replace(Array, 'isArray');
  replace(JSON, 'stringify');
  replace(Math, 'floor');
  replace(Math, 'pow');
  replace(String, 'fromCharCode');
  replace(ArrayBuffer, 'isView');
  for (const part of ['inspect', 'text', 'url', 'fetch']) {
    Object.prototype[part] = { format() { calls++; return 'replaced'; } };
  }
  let out;
  try {
    console.log({ a: 1, b: [1, 'x'] }, new Map([[1, 2]]));
    out = { url: new URL('http://0x7f.1/a?b=c').href,
            b64: btoa('hi'),
            enc: Array.from(new TextEncoder().encode('\u00e9')) };
  } finally {
    for (const part of ['inspect', 'text', 'url', 'fetch']) {
      delete Object.prototype[part];
    }
    for (const [obj, name, value] of saved) {
      obj[name] = value;
    }
  }
  out.calls = calls;
  return out;
}
JS
is($f->{status}, 'success', 'a workflow replacing built-ins runs')
    or diag explain $f;
is_deeply($f->{result}, { url => 'http://127.0.0.1/a?b=c', b64 => 'aGk=',
                          enc => [195, 169], calls => 0 },
          '... and the parts loaded after it use the original ones');
is($f->{logs}[0]{message}, "{ a: 1, b: [ 1, 'x' ] } Map(1) { 1 => 2 }",
   '... console formatting too');

my ($s, $e) = $r->stop;
is($e, '', 'nothing on stderr');

done_testing;
