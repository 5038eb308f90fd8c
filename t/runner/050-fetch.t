#!/usr/bin/perl
# fetch(): the Response it answers, the request it sends, redirects (at
# most 5, each checked again), the address rules of webhook URLs applied
# after DNS (through the --resolver server), at every redirect and at
# every connect, TLS verified against the trusted certificates.

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
my $tls = "$CollabRunner::TOP/t/lib/tls";

my (undef, $port) = CollabRunner::http_server();
my (undef, $port2) = CollabRunner::http_server(address => '127.0.0.2');
my (undef, $tport) = CollabRunner::http_server(cert => "$tls/server.crt",
                                               key => "$tls/server.key");
my (undef, $dns) = CollabRunner::dns_server('127.0.0.1');
my $closed = CollabRunner::free_port();
my $nodns = CollabRunner::free_port('udp');

my $base = "http://127.0.0.1:$port";

# --allow-private: every local server may be reached
my $r = CollabRunner->start(dir => $dir, database => $db,
    args => ['--allow-private', '--resolver', "127.0.0.1:$dns",
             '--trusted-certificate', "$tls/ca.crt"]);
$r->ready;

sub js { my ($body) = @_;
         return "export default async function () {\n$body\n}\n" }

my $f = $r->run(js(<<"JS"));
  const r = await fetch('$base/json');
  return { status: r.status, ok: r.ok, statusText: r.statusText,
           type: r.headers.get('CONTENT-TYPE'), missing: r.headers.get('x'),
           has: r.headers.has('content-length'), url: r.url,
           redirected: r.redirected, json: await r.json(),
           used: r.bodyUsed };
JS
is_deeply($f->{result}, { status => 200, ok => JSON::PP::true,
                          statusText => 'OK', type => 'application/json',
                          missing => undef, has => JSON::PP::true,
                          url => "$base/json",
                          redirected => JSON::PP::false,
                          json => { hello => 'world' },
                          used => JSON::PP::true },
          'a Response: status, ok, statusText, headers.get(), json()');
is_deeply($f->{fetches}, [{ url => "$base/json", status => 200,
                            ms => $f->{fetches}[0]{ms} }],
          '... and the fetch is listed: url, status, ms');

$f = $r->run(js(<<"JS"));
  const r = await fetch('$base/echo', {
    method: 'post',
    headers: { 'Content-Type': 'application/json', 'X-Trace': 'abc' },
    body: JSON.stringify({ a: 1 }),
  });
  const e = await r.json();
  return [e.method, e.headers['content-type'], e.headers['x-trace'],
          e.body, e.headers['user-agent']];
JS
is_deeply($f->{result}, ['POST', 'application/json', 'abc', '{"a":1}',
                         'collab-workflows/0.1.0'],
          'the request: method, headers and body as given');

$f = $r->run(js(<<"JS"));
  const h = [['Accept', 'text/plain']];
  const a = await (await fetch('$base/echo', {
    method: 'PUT', headers: h, body: new Uint8Array([104, 105]) })).json();
  const b = await (await fetch('$base/echo', {
    method: 'POST', body: new URLSearchParams({ q: 'a b', n: '1' }) })).json();
  const c = await (await fetch(new URL('/echo?x=1', '$base'))).json();
  return [a.method, a.body, a.headers.accept, b.body,
          b.headers['content-type'], c.path];
JS
is_deeply($f->{result}, ['PUT', 'hi', 'text/plain', 'q=a+b&n=1',
                         'application/x-www-form-urlencoded;charset=UTF-8',
                         '/echo?x=1'],
          'bytes, URLSearchParams and URL objects');

$f = $r->run(js(<<"JS"));
  const a = await (await fetch('http://127.0.0.1:$port/echo?q=a b#frag')).json();
  const b = await (await fetch('HTTP://Anything.TEST:$port/x/../echo')).json();
  return [a.path, b.path];
JS
is_deeply($f->{result}, ['/echo?q=a%20b', '/echo'],
          'URLs are normalized as the URL parser writes them');

$f = $r->run(js(<<"JS"));
  const out = [];
  for (const [url, init] of [['$base/json', { body: 'x' }],
                             ['ftp://127.0.0.1/', {}],
                             ['not a url', {}],
                             ['http://127.0.0.1:$closed/', {}]]) {
    try { await fetch(url, init); out.push('fetched'); }
    catch (e) { out.push(e.name + ': ' + e.message); }
  }
  return out;
JS
is($f->{result}[0], 'TypeError: fetch: a GET request cannot have a body',
   'a GET with a body is refused');
like($f->{result}[1], qr/^TypeError: fetch: only http and https/,
     'only http and https');
like($f->{result}[2], qr/^TypeError: fetch: invalid URL/, 'a bad URL');
like($f->{result}[3], qr/^TypeError: fetch failed: http:\/\/127\.0\.0\.1:\d+\/: .*onnect/,
     'a refused connection rejects the fetch, catchable');

# redirects
$f = $r->run(js(<<"JS"));
  const r = await fetch('$base/chain?n=4');
  return [r.status, r.url, r.redirected, await r.text()];
JS
is_deeply($f->{result}, [200, "$base/json", JSON::PP::true,
                         '{"hello":"world"}'],
          '5 redirects are followed');

$f = $r->run(js("  await fetch('$base/chain?n=5');"));
like($f->{error}{message}, qr/more than 5 redirects/,
     'a 6th redirect fails the fetch');

$f = $r->run(js(<<"JS"));
  const r = await fetch('$base/redirect?to=%2Fecho', { method: 'POST',
    body: 'gone', headers: { 'Content-Type': 'text/plain' } });
  const e = await r.json();
  return [e.method, e.body, e.headers['content-type'] ?? null];
JS
is_deeply($f->{result}, ['GET', '', undef],
          'a 302 after a POST continues as a GET without the body');

# DNS through --resolver
$f = $r->run(js(<<"JS"));
  const r = await fetch('http://anything.test:$port/json');
  return await r.json();
JS
is_deeply($f->{result}, { hello => 'world' },
          'names are resolved through the --resolver server');

# TLS
$f = $r->run(js(<<"JS"));
  return (await fetch('https://127.0.0.1:$tport/json')).status;
JS
is($f->{result}, 200, 'https with a certificate of a trusted CA');

$f = $r->run(js(<<"JS"));
  return (await fetch('https://localhost:$tport/json')).status;
JS
is($f->{result}, 200, '... its other name');

my ($s, $e) = $r->stop;
is($e, '', 'nothing on stderr');

my $r2 = CollabRunner->start(dir => $dir, database => $db,
    args => ['--allow-private', '--trusted-certificate',
             "$tls/other-ca.crt"]);
$r2->ready;
$f = $r2->run(js(<<"JS"));
  try { await fetch('https://127.0.0.1:$tport/json'); }
  catch (e) { return e.message; }
JS
like($f->{result}, qr/^fetch failed: .*certificate/i,
     'https with a certificate of an untrusted CA fails');
$r2->stop;

# the address rules, without --allow-private; 127.0.0.2 alone allowed
my $r3 = CollabRunner->start(dir => $dir, database => $db,
    args => ['--resolver', "127.0.0.1:$dns", '--allow-address',
             '127.0.0.2']);
$r3->ready;

sub refused {
    my ($url, $want, $name) = @_;
    my $f = $r3->run(js(<<"JS"));
  try { await fetch('$url'); return 'fetched'; }
  catch (e) { return e.message; }
JS
    like($f->{result}, $want, $name);
    return $f;
}

$f = $r3->run(js("  return (await fetch('http://127.0.0.2:$port2/json'))"
                 . ".status;"));
is($f->{result}, 200, 'an allowed address is fetched');

refused("$base/json",
        qr/^fetch refused: \Q$base\E\/json: the address is loopback/,
        'a private address is refused');
refused("http://[::1]:$port/json", qr/the address is loopback/,
        '... in IPv6 as well');
refused("http://[::ffff:127.0.0.1]:$port/json", qr/the address is loopback/,
        '... and as an IPv4-mapped address');
refused("http://localhost:$port/json", qr/the address is loopback/,
        'localhost is refused by its name');
refused("http://10.0.0.1:$port/json", qr/the address is private/,
        'a private network is refused without a connect');
$f = refused("http://rebind.test:$port/json",
        qr/^fetch refused: .*: the host resolves to a loopback address/,
        'a name that resolves to a private address is refused');
is($f->{fetches}[0]{error}, $f->{result}, '... listed with that error');
refused("http://127.0.0.2:$port2/redirect?to=http%3A%2F%2F127.0.0.1%3A$port%2Fjson",
        qr/^fetch refused: http:\/\/127\.0\.0\.1:\d+\/json: the address is loopback/,
        'a redirect to a private address is refused');
refused("http://127.0.0.2:$port2/redirect?to=http%3A%2F%2Fevil.test%3A$port%2Fjson",
        qr/^fetch refused: http:\/\/evil\.test:\d+\/json: the host resolves to a loopback address/,
        'a redirect to a name of a private address is refused');
$r3->stop;

my $r4 = CollabRunner->start(dir => $dir, database => $db,
    args => ['--resolver', "127.0.0.1:$nodns"]);
$r4->ready;
$f = $r4->run(js(<<"JS"));
  try { await fetch('http://example.test/'); } catch (e) { return e.message; }
JS
like($f->{result}, qr/^fetch failed: http:\/\/example\.test\/: cannot resolve "example\.test"/,
     'a name that cannot be resolved fails the fetch');
$r4->stop;

done_testing;
