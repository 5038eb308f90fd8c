#!/usr/bin/perl
# A webhook receiver outside nginx that answers with exact bytes, for the
# tests of how the sender reads answers that nginx would never send.  On
# 127.0.0.1:PORT it serves keepalive connections (a process each), appends
# every request to FILE as a JSON line (the fields of collab.js's
# receiver, so that its "wait" and "received" steps work), answers as the
# path says, and exits after SECONDS (or on SIGTERM); its pid is written
# to PIDFILE.
#
#     perl t/lib/raw-receiver.pl PORT SECONDS FILE PIDFILE
#
#   /interim/100      100 Continue, a pause, then 200
#   /interim/103      103 Early Hints and 200 in one write
#   /interim/both     100, then 103, then 200 with a body, byte by byte
#   /length/twice     two different Content-Length headers
#   /length/same      the same Content-Length twice
#   anything else     200

use strict;
use warnings;
use IO::Socket::INET;
use IO::Handle;
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(sleep);

my ($port, $seconds, $file, $pidfile) = @ARGV;
my $server = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$port",
                                   Listen => 64, ReuseAddr => 1)
    or die "raw-receiver: cannot listen on 127.0.0.1:$port: $!\n";

open my $pf, '>', $pidfile or die "raw-receiver: $pidfile: $!\n";
print $pf "$$\n";
close $pf;

$SIG{CHLD} = 'IGNORE';
$SIG{TERM} = sub { unlink $pidfile; POSIX::_exit(0) };
my $until = time + $seconds;
my $rin = '';
vec($rin, fileno($server), 1) = 1;

my %answer = (
    '/interim/103' =>
        "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
        . "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n",
    '/length/twice' =>
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\n"
        . "ok\n",
    '/length/same' =>
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n"
        . "ok\n",
);

sub serve {
    my ($c) = @_;

    $c->autoflush(1);

    for (;;) {
        my ($line, %h);

        $line = <$c>;
        return unless defined $line;
        my ($path) = $line =~ m{^POST (\S+) HTTP/1\.1\r\n$} or return;

        while ($line = <$c>) {
            last if $line eq "\r\n";
            $h{lc $1} = $2 if $line =~ /^([^:]+):\s*(.*?)\r\n$/;
        }

        my $body = '';
        read($c, $body, $h{'content-length'}) if $h{'content-length'};

        open my $f, '>>', $file or die "raw-receiver: $file: $!\n";
        print $f JSON::PP->new->canonical->encode({
            path => $path, body => $body,
            sig => $h{'x-webhook-signature'} // '',
            id => $h{'webhook-id'} // '', ts => $h{'webhook-timestamp'} // '',
            std => $h{'webhook-signature'} // '',
            ua => $h{'user-agent'} // '', ct => $h{'content-type'} // '',
        }), "\n";
        close $f;

        if ($path eq '/interim/100') {
            print $c "HTTP/1.1 100 Continue\r\n\r\n";
            sleep 0.1;
            print $c "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";

        } elsif ($path eq '/interim/both') {
            for my $ch (split //, "HTTP/1.1 100 Continue\r\n\r\n"
                        . "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                        . "HTTP/1.1 201 Created\r\nContent-Length: 8\r\n\r\n"
                        . "created\n")
            {
                print $c $ch;
                sleep 0.002;
            }

        } else {
            print $c $answer{$path}
                     // "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";
        }
    }
}

while (time < $until) {
    next unless select(my $rout = $rin, undef, undef, 0.2);
    my $c = $server->accept or next;

    if (fork() == 0) {
        $SIG{TERM} = 'DEFAULT';
        close $server;
        alarm($until - time + 1);
        serve($c);
        close $c;
        POSIX::_exit(0);
    }

    close $c;
}

unlink $pidfile;
