#!/usr/bin/perl
# The HTTP server that workflow fetches of the runner's tests reach, on
# 127.0.0.1 only; one process per connection, so that slow answers hold
# nothing else.  Prints "port N" once it listens, and exits after SECONDS.
#
#   perl t/runner/http-server.pl [ADDRESS:]PORT SECONDS RECORD-FILE [CERT KEY]
#
# ADDRESS is 127.0.0.1 unless given; PORT 0 takes a free port.  With CERT and KEY it speaks TLS.  Routes:
#   GET  /json                 {"hello":"world"}
#   ANY  /echo                 the request as JSON: method, path, headers, body
#   ANY  /services/...         (a Slack incoming webhook) records the request
#                              as a JSON line in RECORD-FILE, answers "ok"
#   GET  /redirect?to=URL      302 to URL
#   GET  /chain?n=N            302 to /chain?n=N-1, and /json at 0
#   GET  /slow?ms=N            answers after N milliseconds
#   GET  /hang                 never answers
#   GET  /big?bytes=N          N bytes of "x"

use strict;
use warnings;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep);

my ($port, $seconds, $record, $cert, $key) = @ARGV;

my $address = $port =~ s/^(.*):// ? $1 : '127.0.0.1';
my $server = IO::Socket::INET->new(LocalAddr => $address,
                                   LocalPort => $port, Listen => 128,
                                   ReuseAddr => 1, Proto => 'tcp')
    or die "http-server: cannot listen on $address:$port: $!\n";

if ($cert) {
    require IO::Socket::SSL;
}

$| = 1;
print "port ", $server->sockport, "\n";

# the reader of "port" must not wait for the connections' processes
open STDOUT, '>', '/dev/null';

my %kids;
$SIG{CHLD} = sub { while ((my $pid = waitpid(-1, WNOHANG)) > 0) {
                       delete $kids{$pid} } };
$SIG{ALRM} = $SIG{TERM} = sub { kill 'KILL', keys %kids; exit 0 };
alarm $seconds;

while (1) {
    my $c = $server->accept or next;

    my $pid = fork;
    if (!defined $pid) {
        close $c;
        next;
    }

    if ($pid) {
        $kids{$pid} = 1;
        close $c;
        next;
    }

    close $server;
    $SIG{TERM} = 'DEFAULT';
    alarm $seconds;

    if ($cert) {
        IO::Socket::SSL->start_SSL($c, SSL_server => 1,
                                   SSL_cert_file => $cert,
                                   SSL_key_file => $key)
            or exit 0;
    }

    serve($c);
    exit 0;
}


sub serve {
    my ($c) = @_;

    while (1) {
        my $line = <$c>;
        return unless defined $line;
        $line =~ s/\r?\n$//;
        my ($method, $target) = split / /, $line;
        return unless $target;

        my %h;
        while (my $hl = <$c>) {
            $hl =~ s/\r?\n$//;
            last if $hl eq '';
            my ($n, $v) = split /:\s*/, $hl, 2;
            $h{lc $n} = $v;
        }

        my $body = '';
        if (my $len = $h{'content-length'}) {
            read($c, $body, $len);
        }

        my ($path, $query) = split /\?/, $target, 2;
        my %q = map { my ($k, $v) = split /=/, $_, 2;
                      $v //= ''; $v =~ s/%([0-9a-fA-F]{2})/chr hex $1/ge;
                      ($k, $v) } split /&/, $query // '';

        my $request = { method => $method, path => $target,
                        headers => \%h, body => $body };

        if ($path eq '/json') {
            reply($c, 200, 'application/json', '{"hello":"world"}');

        } elsif ($path eq '/echo') {
            reply($c, 200, 'application/json',
                  JSON::PP->new->canonical->encode($request));

        } elsif ($path =~ m{^/services/}) {
            open my $fh, '>>', $record or die "$record: $!";
            print $fh JSON::PP->new->canonical->encode($request), "\n";
            close $fh;
            reply($c, 200, 'text/plain', 'ok');

        } elsif ($path eq '/redirect') {
            reply($c, 302, 'text/plain', '', "Location: $q{to}\r\n");

        } elsif ($path eq '/chain') {
            my $n = $q{n} // 0;
            reply($c, 302, 'text/plain', '',
                  'Location: ' . ($n > 0 ? '/chain?n=' . ($n - 1) : '/json')
                  . "\r\n");

        } elsif ($path eq '/slow') {
            sleep(($q{ms} // 1000) / 1000);
            reply($c, 200, 'text/plain', "slow $q{ms}");

        } elsif ($path eq '/hang') {
            sleep 3600;

        } elsif ($path eq '/big') {
            reply($c, 200, 'application/octet-stream', 'x' x ($q{bytes} // 0));

        } else {
            reply($c, 404, 'text/plain', 'not found');
        }
    }
}


sub reply {
    my ($c, $status, $type, $body, $extra) = @_;
    my %reason = (200 => 'OK', 302 => 'Found', 404 => 'Not Found');

    print $c "HTTP/1.1 $status $reason{$status}\r\n"
             . "Content-Type: $type\r\n"
             . 'Content-Length: ' . length($body) . "\r\n"
             . ($extra // '')
             . "\r\n" . $body;
    $c->flush;
}
