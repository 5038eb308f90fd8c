#!/usr/bin/perl
# A slow webhook receiver outside nginx, for the tests: on 127.0.0.1:PORT
# it answers each request with 200 after DELAY ms (a process per
# connection, one request each), and exits after SECONDS.  Prints
# "listening" once it listens.
#
#     perl t/lib/slow-receiver.pl PORT DELAY SECONDS

use strict;
use warnings;
use IO::Socket::INET;
use POSIX ();

my ($port, $delay, $seconds) = @ARGV;
my $server = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$port",
                                   Listen => 64, ReuseAddr => 1)
    or die "slow-receiver: cannot listen on 127.0.0.1:$port: $!\n";

$| = 1;
print "listening\n";

$SIG{CHLD} = 'IGNORE';
my $until = time + $seconds;
my $rin = '';
vec($rin, fileno($server), 1) = 1;

while (time < $until) {
    next unless select(my $rout = $rin, undef, undef, 0.2);
    my $c = $server->accept or next;

    if (fork() == 0) {
        my $length = 0;
        while (my $line = <$c>) {
            $length = $1 if $line =~ /^content-length:\s*(\d+)/i;
            last if $line eq "\r\n";
        }
        read($c, my $body, $length) if $length;
        select(undef, undef, undef, $delay / 1000);
        print $c "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                 . "Connection: close\r\n\r\nok\n";
        close $c;
        POSIX::_exit(0);
    }

    close $c;
}
