package CollabPresence;

# The scenario runner of the presence tests: real Server-Sent Events
# clients (plain sockets) next to API requests, run from a block's
# "--- init" while its nginx is up.  Each step prints what it saw into a
# transcript, which the block then fetches (GET /transcript) and compares
# with its --- response_body.  Identifiers are replaced by stable names as
# in t/lib/collab.js ({acc1}, {room1}, {evt1}, {ctok1}, {ses1} ...) and
# timestamps read <ts>, so that a transcript is the same on every run.
#
#     as admin | as {ctok1} | as none
#     METHOD PATH [BODY]          an API request: METHOD PATH STATUS BODY
#     port first | port second    where the next requests and streams go
#                                 (the second port spreads connections
#                                 over the workers with reuseport)
#     open A TOKEN [query] [ROOM] a stream named A, for the last room made
#                                 (or ROOM), the token as a Bearer header
#                                 or, with "query", as ?token=; prints its
#                                 status, and the error when it is not 200
#     open A TOKEN ... beside B   the same, landing in a worker other than
#                                 the one of stream B (retries on the
#                                 second port)
#     head A                      the stream's status line and headers
#     read A                      its next message, line by line ("A> "),
#                                 heartbeats passed over
#     eof A                       waits until the server ends the stream
#     close A | reset A           the client goes: FIN, or RST
#     events N                    waits until the account has N events,
#                                 then prints them oldest first
#     presence N [C]              waits until GET .../presence of the last
#                                 room lists N participants (with C
#                                 connections in all), and prints it
#     metrics NAME VALUE          waits until GET /metrics (on the first
#                                 port) has the sample NAME at VALUE,
#                                 and prints the sample
#     sleep MS
#     kill A                      kill -9 of the worker holding stream A
#     reload                      nginx -s reload (HUP to the master)
#     kill all                    kill -9 of the master and its workers
#     print TEXT                  copies TEXT into the transcript
#     file NAME [sorted]          the lines of logs/NAME (say, what the
#                                 Express receiver printed)
#     express N                   waits until the Express receiver got N
#                                 deliveries; prints them sorted
#     logs TOKEN                  whether error.log or access.log has it
#     forge expired|foreign USER  a client token of the current room, past
#                                 its expiry, or signed with another key
#     bytes A N                   the next N messages of A, byte for byte
#     beat A                      the next message, a heartbeat included
#     churn CLIENTS ROOMS OPS     clients come and go at random (see below)
#     order                       replays the churned rooms' events
#     # comment
#
# Waiting steps give up after 15 s and say so in the transcript.
#
# With TEST_NGINX_COLLAB_CONTRACT_LOG set (t/910-openapi.t), every API
# request and every stream is logged there as t/lib/collab.js logs its
# requests, for the contract check of docs/openapi.yaml: a stream once it
# ends (closed by either side, or at the end of the steps) with all the
# bytes it carried, or at once when it is refused.

use strict;
use warnings;

use Digest::SHA ();
use IO::Socket::INET;
use MIME::Base64 ();
use IO::Select;
use Encode ();
use JSON::PP;
use POSIX ();
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes ();

use CollabTest ();

our $Wait = 15;

# The configuration of the presence tests: the API, its answers telling
# the worker's pid in X-Worker, and /transcript; $Port2, a second server
# that spreads connections over every worker with reuseport (the steps'
# "port second"); http_config() the suite's http block with a presence
# grace and what else a file adds.

our $Api = <<'_EOC_';
    location /v1/ {
        add_header X-Worker $pid always;
        collab_api;
    }
_EOC_

our $Config = $Api . <<'_EOC_';
    location = /transcript {
        default_type text/plain;
        alias $TEST_NGINX_SERVER_ROOT/logs/transcript.txt;
    }
_EOC_

our $Port2 = CollabTest::spread_server('$TEST_NGINX_COLLAB_PORT2');

sub http_config {
    my ($grace, $more) = @_;

    return $CollabTest::HttpConfig
           . "    collab_presence_grace      $grace;\n"
           . (defined $more ? $more : '');
}

# Each block's defaults: http_config(), with the block's "--- grace" if it
# has one (else $opt{grace}, else 0) and $opt{http_config} added; $Config
# or $opt{config}; the request that fetches the transcript; and, with
# $opt{timeout}, the block's timeout.
sub preprocess {
    my (%opt) = @_;

    Test::Nginx::Socket::add_block_preprocessor(sub {
        my $block = shift;

        if (!defined $block->http_config) {
            my $grace = defined $block->grace ? $block->grace
                        : defined $opt{grace} ? $opt{grace} : '0';
            $block->set_value("http_config",
                              http_config($grace, $opt{http_config}));
        }

        $block->set_value("config", $opt{config} || $Config)
            if !defined $block->config;
        $block->set_value("request", "GET /transcript")
            if !defined $block->request;
        $block->set_value("timeout", $opt{timeout}) if $opt{timeout};
    });
}

my $json = JSON::PP->new->canonical(0);

sub new {
    my ($class) = @_;

    my $self = bless {
        names => {}, values => {}, count => {},
        port => $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984,
        streams => {}, out => '', auth => undef, account => undef,
        room => undef,
    }, $class;

    return $self;
}

sub root { Test::Nginx::Socket::server_root() }

sub admin_token {
    my $file = ($ENV{TEST_NGINX_COLLAB_LIB} || 't/lib') . '/admin.token';
    open my $fh, '<', $file or die "$file: $!\n";
    my $t = <$fh>;
    close $fh;
    $t =~ s/\s+//g;
    return $t;
}

# stable names for identifiers

my @Kinds = (
    [ qr/\bct_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}\b/, 'ctok' ],
    [ qr{whsec_[A-Za-z0-9+/]{32}}, 'secret' ],
    [ qr/\bck_[0-9A-Za-z]{43}\b/, 'tok' ],
    [ qr/\b(acc|key|evt|wh|dlv|user|ses)_[0-9A-Za-z]{22}\b/, undef ],
    [ qr/\b[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}
          -[0-9a-f]{12}\b/x,
      'room' ],
);

sub name {
    my ($self, $kind, $value) = @_;

    if (!defined $self->{names}{$value}) {
        my $n = '{' . $kind . ++$self->{count}{$kind} . '}';
        $self->{names}{$value} = $n;
        $self->{values}{$n} = $value;
    }

    return $self->{names}{$value};
}

sub hide {
    my ($self, $text) = @_;

    $text =~ s{("nextCursor":")([^"]+)"}
              {$1 . $self->name('cursor', $2) . '"'}ge;

    for my $k (@Kinds) {
        my ($re, $kind) = @$k;
        $text =~ s{($re)}{
            my $v = $1;
            my $kd = $kind;
            if (!defined $kd) { ($kd) = $v =~ /^([a-z]+)_/; }
            $self->name($kd, $v);
        }ge;
    }

    $text =~ s/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/<ts>/g;
    $text =~ s/("durationMs":)\d+/$1<ms>/g;

    return $text;
}

sub expand {
    my ($self, $text) = @_;

    $text =~ s{(\{[a-z]+\d+\})}
              {defined $self->{values}{$1} ? $self->{values}{$1} : $1}ge;

    return $text;
}

sub say {
    my ($self, $line) = @_;
    $self->{out} .= $line . "\n";
}

# HTTP

sub connect_port {
    my ($self, $port) = @_;

    for (1 .. 50) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp');
        return $s if $s;
        Time::HiRes::sleep(0.1);
    }

    die "cannot connect to port $port: $!\n";
}

sub read_head {
    my ($sock, $buf) = @_;
    my $sel = IO::Select->new($sock);
    my $until = Time::HiRes::time() + $Wait;

    while ($$buf !~ /\r\n\r\n/) {
        my $left = $until - Time::HiRes::time();
        return undef if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($sock, $$buf, 65536, length $$buf);
        return undef if !$n;
    }

    $$buf =~ s/^(.*?)\r\n\r\n//s;
    my $head = $1;
    my ($status) = $head =~ m{^HTTP/1\.\d (\d+)};

    return ($status, $head);
}

sub header {
    my ($head, $name) = @_;
    return $head =~ /^\Q$name\E:\s*(.*?)\r?$/mi ? $1 : undef;
}

sub request {
    my ($self, $method, $path, $body) = @_;

    my $sock = $self->connect_port($self->{port});
    my $req = "$method $path HTTP/1.1\r\nHost: localhost\r\n"
              . "Connection: close\r\n";
    $req .= "Authorization: Bearer $self->{auth}\r\n" if $self->{auth};

    if (defined $body) {
        $req .= "Content-Type: application/json\r\n"
                . "Content-Length: " . length($body) . "\r\n";
    }

    $req .= "\r\n" . (defined $body ? $body : '');
    print $sock $req;

    my $buf = '';
    my ($status, $head) = read_head($sock, \$buf);
    die "no answer to $method $path\n" if !defined $status;

    my $len = header($head, 'Content-Length');

    my $sel = IO::Select->new($sock);
    while (!defined $len || length $buf < $len) {
        last if !$sel->can_read($Wait);
        my $n = sysread($sock, $buf, 65536, length $buf);
        last if !$n;
    }

    close $sock;
    contract($method, $path, $status, $head, $buf);
    $buf =~ s/\n$//;

    return ($status, $buf, $head);
}

# the headers of an answer that the contract check looks at
my @Recorded = ('Allow', 'WWW-Authenticate', 'ETag', 'Content-Range',
                'Retry-After');

sub contract {
    my ($method, $path, $status, $head, $body) = @_;

    my $file = $ENV{TEST_NGINX_COLLAB_CONTRACT_LOG};
    return if !$file;

    my %headers;
    for my $h (@Recorded) {
        my $v = header($head, $h);
        $headers{$h} = $v if defined $v;
    }

    $path =~ s/([?&]token=)[^&]*/$1*/;

    my $line = JSON::PP->new->utf8->canonical->encode({
        method => $method,
        url => $path,
        status => $status + 0,
        type => header($head, 'Content-Type'),
        headers => \%headers,
        body => Encode::decode('UTF-8', $body),
    });

    open my $fh, '>>', $file or die "$file: $!\n";
    print $fh "$line\n";
    close $fh;
}

# a stream, logged once, with the bytes it carried
sub contract_stream {
    my ($self, $st) = @_;

    return if $st->{logged}++;
    $self->decode($st) if $st->{status} == 200;
    contract('GET', $st->{path}, $st->{status}, $st->{head}, $st->{all});
}

# streams

sub open_stream {
    my ($self, $name, $token, $query, $where, $port) = @_;

    my ($acc, $room) = ($self->{account}, $self->{room});
    ($acc, $room) = map { $self->expand($_) } split / /, $where if $where;

    my $path = "/v1/accounts/$acc/rooms/$room/connect";
    $path .= "?token=$token" if $query;

    my $sock = $self->connect_port($port || $self->{port});
    my $req = "GET $path HTTP/1.1\r\nHost: localhost\r\n";
    $req .= "Authorization: Bearer $token\r\n" if !$query;
    $req .= "Accept: text/event-stream\r\n\r\n";
    print $sock $req;

    my $buf = '';
    my ($status, $head) = read_head($sock, \$buf);
    die "no answer to the stream $name\n" if !defined $status;

    my $st = { sock => $sock, status => $status, head => $head,
               raw => $buf, data => '', all => '', chunked => 0, eof => 0,
               path => $path, worker => header($head, 'X-Worker') };

    $st->{chunked} = 1
        if (header($head, 'Transfer-Encoding') || '') =~ /chunked/i;

    if ($status != 200) {
        my $len = header($head, 'Content-Length') || 0;
        my $sel = IO::Select->new($sock);

        while (length $st->{raw} < $len && $sel->can_read($Wait)) {
            last if !sysread($sock, $st->{raw}, 65536, length $st->{raw});
        }

        $st->{data} = $st->{raw};
        $st->{all} = $st->{raw};
        close $sock;
        $st->{eof} = 1;
        $self->contract_stream($st);
    }

    return $st;
}

# decodes what arrived; with $all, reads until the server closes
sub fill {
    my ($self, $st, $all, $timeout) = @_;

    my $sel = IO::Select->new($st->{sock});

    for (;;) {
        $self->decode($st);

        last if !$all && $st->{data} =~ /\n\n/;
        last if $st->{eof};

        last if !$sel->can_read(defined $timeout ? $timeout : $Wait);

        my $n = sysread($st->{sock}, $st->{raw}, 65536, length $st->{raw});

        if (!$n) {
            $st->{eof} = 1;
            $self->decode($st);
            last;
        }
    }
}

sub decode {
    my ($self, $st) = @_;

    if (!$st->{chunked}) {
        $st->{data} .= $st->{raw};
        $st->{all} .= $st->{raw};
        $st->{raw} = '';
        return;
    }

    while ($st->{raw} =~ /^([0-9a-fA-F]+)\r\n/) {
        my $size = hex $1;
        my $hl = length($1) + 2;

        last if length $st->{raw} < $hl + $size + 2;

        $st->{data} .= substr($st->{raw}, $hl, $size);
        $st->{all} .= substr($st->{raw}, $hl, $size);
        substr($st->{raw}, 0, $hl + $size + 2) = '';

        $st->{last_chunk} = 1 if $size == 0;
    }
}

sub stream {
    my ($self, $name) = @_;
    my $st = $self->{streams}{$name};
    die "no stream $name\n" if !$st;
    return $st;
}

sub wait_until {
    my ($self, $check) = @_;
    my $until = Time::HiRes::time() + $Wait;

    while (Time::HiRes::time() < $until) {
        my $r = $check->();
        return $r if $r;
        Time::HiRes::sleep(0.05);
    }

    return undef;
}

sub events {
    my ($self) = @_;

    local $self->{auth} = admin_token();

    my @all;
    my $cursor;

    # the text of each event as the server wrote it, keys in its order
    do {
        my $path = "/v1/accounts/$self->{account}/events?limit=100"
                   . ($cursor ? "&cursor=$cursor" : '');
        my ($status, $body) = $self->request('GET', $path);
        die "GET $path: $status $body\n" if $status != 200;

        while ($body =~ /\{"id":"([^"]+)","event":"([^"]+)",
                         "data":((?:[^{}]|\{[^{}]*\})*?),
                         "timestamp":"([^"]+)"\}/gx)
        {
            push @all, { id => $1, event => $2, data => $3, ts => $4 };
        }

        $cursor = $body =~ /"nextCursor":"([^"]+)"/ ? $1 : undef;
    } while ($cursor);

    return [ reverse @all ];
}

sub master_pid {
    my $file = root() . '/logs/nginx.pid';
    open my $fh, '<', $file or die "$file: $!\n";
    my $pid = <$fh>;
    close $fh;
    chomp $pid;
    return $pid;
}

# a client token as the server makes them (see ngx_collab_ctoken.h)
sub sign_token {
    my ($key, $account, $room, $user, $issued, $expires) = @_;

    my $payload = pack('C', 1) . pack('Q>', $issued) . pack('Q>', $expires)
                  . join '', map { pack('C', length $_) . $_ }
                                 $account, $room, $user;

    my $text = 'ct_' . b64url($payload);
    my $mac = Digest::SHA::hmac_sha256("collab client token\n" . $text, $key);

    return $text . '.' . b64url($mac);
}

sub b64url {
    my $b = MIME::Base64::encode_base64(shift, '');
    $b =~ tr{+/}{-_};
    $b =~ s/=+$//;
    return $b;
}

sub token_key {
    my $db = root() . '/logs/collab.db';
    my $hex = `sqlite3 '$db' "SELECT hex(value) FROM meta
                              WHERE name = 'client_token_key'"`;
    chomp $hex;
    die "no client token key in $db\n" if length $hex != 64;
    return pack('H*', $hex);
}

# the steps

sub step {
    my ($self, $line) = @_;

    return if $line =~ /^\s*(#|$)/;

    if ($line =~ /^as (\S+)$/) {
        my $who = $1;
        $self->{auth} = $who eq 'admin' ? admin_token()
                        : $who eq 'none' ? undef : $self->expand($who);
        return;
    }

    if ($line =~ /^port (first|second)$/) {
        $self->{port} = $1 eq 'first'
                        ? $ENV{TEST_NGINX_SERVER_PORT}
                        : $ENV{TEST_NGINX_COLLAB_PORT2};
        return;
    }

    if ($line =~ /^print (.*)$/) {
        $self->say($1);
        return;
    }

    if ($line =~ /^sleep (\d+)$/) {
        Time::HiRes::sleep($1 / 1000);
        return;
    }

    if ($line =~ /^(GET|POST|PUT|PATCH|DELETE) (\S+)(?: (.*))?$/) {
        my ($method, $path, $body) = ($1, $2, $3);
        my ($status, $answer) = $self->request($method,
                                               $self->expand($path),
                                               defined $body
                                               ? $self->expand($body)
                                               : undef);
        $answer = $self->hide($answer);
        $self->say("$method $path $status" . ($answer ne '' ? " $answer"
                                                             : ''));

        # the room made last (and its account) is where streams go
        if ($method eq 'POST' && $status =~ /^2/
            && $path =~ m{^/v1/accounts/(\{acc\d+\})/rooms$})
        {
            my $acc = $1;
            my ($room) = $answer =~ /^\{"id":"(\{room\d+\})"/;
            $self->{account} = $self->{values}{$acc};
            $self->{room} = $self->{values}{$room};
        }

        return;
    }

    if ($line =~ /^open\ (\w+)\ (\S+)((?:\ query)?)
                   (?:\ in\ (\S+\ \S+))?(?:\ beside\ (\w+))?$/x)
    {
        my ($name, $token, $query, $room, $beside) = ($1, $2, $3, $4, $5);
        $token = $self->expand($token);

        my $st;

        if ($beside) {
            my $other = $self->stream($beside)->{worker};

            for (1 .. 100) {
                $st = $self->open_stream($name, $token, $query, $room,
                                         $ENV{TEST_NGINX_COLLAB_PORT2});
                last if $st->{status} != 200
                        || ($st->{worker} || '') ne ($other || '');
                $self->contract_stream($st);
                close $st->{sock};
                undef $st;
            }

            die "no other worker than ${beside}'s\n" if !$st;

        } else {
            $st = $self->open_stream($name, $token, $query, $room);
        }

        $self->{streams}{$name} = $st;

        my $text = "open $name $st->{status}";
        if ($st->{status} != 200) {
            $text .= ' ' . $self->hide($st->{data});
            $text =~ s/\n$//;
        }

        $self->say($text);
        return;
    }

    if ($line =~ /^head (\w+)$/) {
        my $st = $self->stream($1);
        for my $l (split /\r\n/, $st->{head}) {
            next if $l =~ /^(Date|Server|X-Worker):/i;
            $self->say("$1> $l");
        }
        return;
    }

    if ($line =~ /^(read|beat) (\w+)$/) {
        my ($how, $name) = ($1, $2);
        my $st = $self->stream($name);
        my $msg;

        for (;;) {
            $self->fill($st, 0);
            last if $st->{data} !~ s/^(.*?)\n\n//s;
            $msg = $1;
            # "read" passes over heartbeats, whose timing is the server's
            last if $how eq 'beat' || $msg ne ': heartbeat';
            undef $msg;
        }

        if (defined $msg) {
            $self->say("$name> $_") for split /\n/, $self->hide($msg);

        } else {
            $self->say("$name: no message"
                       . ($st->{eof} ? ' (closed)' : ''));
        }

        return;
    }

    if ($line =~ /^bytes (\w+) (\d+)$/) {
        my ($name, $want) = ($1, $2);
        my $st = $self->stream($name);
        my $sel = IO::Select->new($st->{sock});
        my $until = Time::HiRes::time() + $Wait;

        while ((() = $st->{data} =~ /\n\n/g) < $want && !$st->{eof}) {
            my $left = $until - Time::HiRes::time();
            last if $left <= 0 || !$sel->can_read($left);
            my $n = sysread($st->{sock}, $st->{raw}, 65536,
                            length $st->{raw});
            $st->{eof} = 1 if !$n;
            $self->decode($st);
        }

        my $text = '';
        for (1 .. $want) {
            last if $st->{data} !~ s/^(.*?\n\n)//s;
            $text .= $1;
        }

        # one transcript line per line of the stream, blank ones included
        $text = $self->hide($text);
        $text =~ s/\n\z//;
        $self->say("$name|" . ($_ eq '' ? '' : " $_"))
            for split /\n/, $text, -1;
        return;
    }

    if ($line =~ /^forge (expired|foreign) (\S+)$/) {
        my ($how, $user) = ($1, $2);
        my $now = int(Time::HiRes::time() * 1000);
        my $key = $how eq 'foreign' ? 'k' x 32 : $self->token_key();
        my $token = sign_token($key, $self->{account}, $self->{room}, $user,
                               $now - 120000,
                               $how eq 'expired' ? $now - 60000
                                                 : $now + 3600000);
        $self->say("forged " . $self->hide($token));
        return;
    }

    if ($line =~ /^file (\S+)( sorted)?$/) {
        my ($name, $sorted) = ($1, $2);
        my $file = root() . "/logs/$name";
        open my $fh, '<', $file or die "$file: $!\n";
        my @lines = grep { $_ ne 'listening' } map { chomp; $_ } <$fh>;
        close $fh;
        @lines = sort @lines if $sorted;
        $self->say($self->hide("$name: $_")) for @lines;
        return;
    }

    # what the Express receiver got, in no particular order: sorted
    if ($line =~ /^express (\d+)$/) {
        my ($status, $body) = $self->request('GET', "/express/log?count=$1");
        my @items = sort $body =~ /(\{[^{}]*\})/g;
        $self->say("express: $status " . join(',', @items));
        return;
    }

    if ($line =~ /^logs (\S+)$/) {
        my $token = $self->expand($1);

        for my $log (qw(error.log access.log)) {
            my $text = '';
            if (open my $fh, '<', root() . "/logs/$log") {
                local $/;
                $text = <$fh>;
                close $fh;
            }
            $self->say("$log: " . (index($text, $token) >= 0
                                   ? 'has the token' : 'no token'));
        }

        return;
    }

    if ($line =~ /^eof (\w+)$/) {
        my $name = $1;
        my $st = $self->stream($name);

        $self->fill($st, 1);
        $self->contract_stream($st) if $st->{eof};

        $st->{data} = '';

        $self->say("$name: " . ($st->{eof} ? 'closed by the server'
                                           : 'still open')
                   . ($st->{last_chunk} ? ', after its last chunk' : ''));
        return;
    }

    if ($line =~ /^(close|reset) (\w+)$/) {
        my ($how, $name) = ($1, $2);
        my $st = $self->stream($name);

        if ($how eq 'reset') {
            setsockopt($st->{sock}, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
        }

        $self->contract_stream($st);
        close $st->{sock};
        delete $self->{streams}{$name};
        return;
    }

    if ($line =~ /^events (\d+)$/) {
        my $want = $1;
        my $list = $self->wait_until(sub {
            my $l = $self->events();
            return @$l >= $want ? $l : undef;
        }) || $self->events();

        $self->say("events: " . scalar(@$list)
                   . (@$list < $want ? " (waited for $want)" : ''));

        for my $e (@$list) {
            $self->say($self->hide("  $e->{event} $e->{data}"));
        }

        return;
    }

    if ($line =~ /^presence (\d+)(?: (\d+))?$/) {
        my ($want, $conns) = ($1, $2);
        my $path = "/v1/accounts/$self->{account}/rooms/$self->{room}"
                   . "/presence";
        my $body;

        local $self->{auth} = admin_token();

        $self->wait_until(sub {
            my ($status, $b) = $self->request('GET', $path);
            $body = $b;
            my $n = () = $b =~ /"userId"/g;
            my $c = 0;
            $c += $1 while $b =~ /"connections":(\d+)/g;
            return $n == $want && (!defined $conns || $c == $conns);
        });

        $self->say("presence: " . $self->hide($body));
        return;
    }

    if ($line =~ /^metrics (\S+) (-?\d+)$/) {
        $self->say(metric($1, $2));
        return;
    }

    if ($line =~ /^churn (\d+) (\d+) (\d+)$/) {
        $self->churn($1, $2, $3);
        return;
    }

    if ($line eq 'order') {
        $self->order();
        return;
    }

    if ($line =~ /^kill (\w+)$/ && $1 ne 'all') {
        my $pid = $self->stream($1)->{worker};
        kill 'KILL', $pid;
        return;
    }

    if ($line eq 'kill all') {
        my $master = master_pid();
        my @workers = split /\s+/, `pgrep -P $master`;
        kill 'KILL', $master;
        kill 'KILL', $_ for grep { /^\d+$/ } @workers;
        return;
    }

    if ($line eq 'reload') {
        kill 'HUP', master_pid();
        return;
    }

    die "unknown step: $line\n";
}

# waits until GET /metrics has the sample NAME at VALUE (at most $Wait s);
# returns the sample as seen last ("NAME VALUE", else with the value it
# had and what was waited for)
sub metric {
    my ($name, $want) = @_;

    my $self = CollabPresence->new();

    my $seen = 'none';

    $self->wait_until(sub {
        my ($status, $body) = $self->request('GET', '/metrics');
        $seen = $body =~ /^\Q$name\E (\S+)$/m ? $1 : 'none';
        return $seen eq $want;
    });

    return "$name $seen" . ($seen eq $want ? '' : " (waited for $want)");
}

# CLIENTS clients of users spread over ROOMS new rooms (two clients per
# user for some: tabs) connect and go at random, OPS times in all, on the
# second port, so over both workers; then all go, and the step waits until
# every room is empty.
sub churn {
    my ($self, $clients, $nrooms, $ops) = @_;

    my $nusers = int($clients * 3 / 5) || 1;
    my (@rooms, @tokens, @open, %workers);

    for my $i (1 .. $nrooms) {
        my ($status, $body) = $self->request('POST',
            "/v1/accounts/$self->{account}/rooms", qq({"name":"churn $i"}));
        die "room: $status $body\n" if $status != 201;
        my ($id) = $body =~ /"id":"([^"]+)"/;
        push @rooms, $id;
        $self->name('room', $id);
    }

    for my $u (0 .. $nusers - 1) {
        my $room = $rooms[$u % $nrooms];
        my $base = "/v1/accounts/$self->{account}/rooms/$room/users";
        my ($status, $body) = $self->request('POST', $base,
                                             qq({"userId":"c$u"}));
        die "user: $status $body\n" if $status != 201;
        ($status, $body) = $self->request('POST', "$base/c$u/tokens", '{}');
        die "token: $status $body\n" if $status != 201;
        my ($token) = $body =~ /"token":"([^"]+)"/;
        $tokens[$u] = [ $token, $room ];
    }

    my $opened = 0;

    for (1 .. $ops) {
        my $c = int(rand($clients));

        if ($open[$c]) {
            my $st = $open[$c];
            setsockopt($st->{sock}, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0))
                if rand() < 0.5;
            $self->contract_stream($st);
            close $st->{sock};
            undef $open[$c];

        } else {
            my ($token, $room) = @{ $tokens[$c % $nusers] };
            my $st = $self->open_stream("c$c", $token, 0,
                                        "$self->{account} $room",
                                        $ENV{TEST_NGINX_COLLAB_PORT2});
            die "stream: $st->{status} $st->{data}\n"
                if $st->{status} != 200;
            $workers{ $st->{worker} || '' } = 1;
            $open[$c] = $st;
            $opened++;
        }

        Time::HiRes::sleep(rand(0.01));
    }

    for my $st (grep { defined } @open) {
        $self->contract_stream($st);
        close $st->{sock};
    }

    local $self->{auth} = admin_token();
    my $empty = $self->wait_until(sub {
        for my $room (@rooms) {
            my ($status, $body) = $self->request('GET',
                "/v1/accounts/$self->{account}/rooms/$room/presence");
            return 0 if $body ne '{"data":[]}';
        }
        return 1;
    });

    $self->{churn_rooms} = \@rooms;

    $self->say("churn: $clients clients of $nusers users in $nrooms rooms, "
               . "$ops connects and disconnects"
               . (keys %workers > 1 ? ' (several workers)' : ' (one worker)')
               . ($empty ? ', all gone' : ', NOT all gone'));
}

# replays the recorded events of each churned room: every session is
# started -> joins and leaves alternating per user -> closed
#
# Presence answers from shared memory at once, while the events of the last
# leaves are recorded by the storage threads just after: the replay waits
# until every room reads in order (or the wait ends), then says each room's.
sub order {
    my ($self) = @_;
    my @lines;

    $self->wait_until(sub {
        @lines = $self->order_lines($self->events());
        return !grep { !/: in order$/ } @lines;
    });

    $self->say($_) for @lines;
}

sub order_lines {
    my ($self, $events) = @_;
    my @lines;

    for my $room (@{ $self->{churn_rooms} }) {
        my @list = grep { $_->{data} =~ /"roomId":"\Q$room\E"/
                          && $_->{event} =~ /^(session|participant)\./ }
                   @$events;

        my ($session, %in, $problem, $last);
        my ($sessions, $joins, $leaves) = (0, 0, 0);

        for my $i (0 .. $#list) {
            my $e = $list[$i];
            my ($user) = $e->{data} =~ /"userId":"([^"]+)"/;
            my ($sid) = $e->{data} =~ /"sessionId":"([^"]+)"/;
            my $ev = $e->{event};

            if ($ev eq 'session.started') {
                $problem = 'a session starts inside another' if $session;
                $problem = 'a session starts without its first join'
                    if !$list[$i + 1]
                       || $list[$i + 1]{event} ne 'participant.joined';
                $session = $sid;
                $sessions++;

            } elsif ($ev eq 'participant.joined') {
                $problem = "$user joins outside a session" if !$session;
                $problem = "$user joins twice" if $in{$user};
                $in{$user} = 1;
                $joins++;

            } elsif ($ev eq 'participant.left') {
                $problem = "$user leaves without joining" if !$in{$user};
                delete $in{$user};
                $leaves++;

            } else {
                $problem = 'a session closes with participants'
                    if keys %in;
                $problem = 'a session closes without a leave'
                    if !$last || $last ne 'participant.left';
                $problem = 'another session closes'
                    if !$session || $sid ne $session;
                undef $session;
            }

            $last = $ev;

            if ($problem) {
                $problem = "event " . ($i + 1) . " ($ev): $problem";
                last;
            }
        }

        $problem ||= 'a session is left open' if $session;

        push @lines, "room " . $self->hide($room) . ": "
                     . ($problem ? "OUT OF ORDER: $problem"
                                 : "in order"
                                   . ($sessions ? '' : ' (no session!)')
                                   . ($joins == $leaves
                                      ? '' : ' (joins != leaves)'));
    }

    return @lines;
}

# runs the steps and writes the transcript where GET /transcript reads it
sub run {
    my ($text, %preset) = @_;

    my $self = CollabPresence->new();
    $self->{auth} = admin_token();

    # the account and room of an earlier block, named afresh
    for my $k (qw(account room)) {
        next if !$preset{$k};
        $self->{$k} = $preset{$k};
        $self->hide($preset{$k});
    }

    for my $line (split /\n/, $text) {
        my $t0 = Time::HiRes::time();
        eval { $self->step($line) };
        printf STDERR "# %.3f s: %s\n", Time::HiRes::time() - $t0, $line
            if $ENV{COLLAB_PRESENCE_VERBOSE};
        if ($@) {
            $self->say("step failed: $line: $@");
            last;
        }
    }

    for my $st (values %{ $self->{streams} }) {
        $self->contract_stream($st);
        close $st->{sock} if $st->{sock};
    }

    my $file = root() . '/logs/transcript.txt';
    open my $fh, '>', $file or die "$file: $!\n";
    print $fh $self->{out};
    close $fh;

    return $self;
}

1;
