#!/usr/bin/perl
# A tiny DNS server for the tests: answers every A question with one
# address, every other question with no answer, on 127.0.0.1:PORT (UDP),
# and exits after SECONDS.
#
#     perl t/lib/dns-responder.pl PORT ADDRESS SECONDS

use strict;
use warnings;
use IO::Socket::INET;
use Socket qw(inet_aton);

my ($port, $address, $seconds) = @ARGV;
my $sock = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$port",
                                 Proto => 'udp', ReuseAddr => 1)
    or die "dns-responder: cannot bind 127.0.0.1:$port: $!\n";

my $until = time + $seconds;
my $rin = '';
vec($rin, fileno($sock), 1) = 1;

while (time < $until) {
    next unless select(my $rout = $rin, undef, undef, 0.2);

    my $peer = $sock->recv(my $query, 512) or next;
    next if length $query < 12;

    my ($id, $flags, $qd) = unpack('n n n', $query);
    next if $qd != 1;

    # the question: labels up to the root, then type and class
    my $pos = 12;
    while ($pos < length $query) {
        my $len = ord substr($query, $pos, 1);
        $pos += 1 + $len;
        last if $len == 0;
    }
    next if $pos + 4 > length $query;

    my $question = substr($query, 12, $pos + 4 - 12);
    my $qtype = unpack('n', substr($query, $pos, 2));
    my $answers = $qtype == 1 ? 1 : 0;

    my $reply = pack('n n n n n n', $id, 0x8180, 1, $answers, 0, 0)
                . $question;

    if ($answers) {
        $reply .= pack('n n n N n', 0xc00c, 1, 1, 1, 4) . inet_aton($address);
    }

    $sock->send($reply, 0, $peer);
}
