package CollabRunner;

# What the runner's tests share: a database made with the module's own
# schema (the migrations of storage/ngx_collab_schema.c, printed by
# $ENV{COLLAB_SCHEMA}, built from t/runner/schema.c), the real
# collab-runner started on a socket
# pair as the module starts it (the socket as fd 3, an empty
# environment), frames both ways, and the helper servers (HTTP, DNS).
#
# The runner is $ENV{COLLAB_RUNNER}; without it the tests are skipped (the
# Makefile's test-unit and test-asan set it).  $ENV{COLLAB_RUNNER_ARGS}
# adds options (the AddressSanitizer run adds --no-seccomp, so that
# LeakSanitizer can run at exit).

use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG);
use Socket;
use Time::HiRes qw(time sleep);

our $TOP = abs_path(dirname(__FILE__) . '/../../..');
our $JSON = JSON::PP->new->canonical;

sub runner_binary {
    return $ENV{COLLAB_SCHEMA} ? $ENV{COLLAB_RUNNER} : undef;
}

sub tempfolder {
    return tempdir('collab-runner-XXXXXX', TMPDIR => 1, CLEANUP => 1);
}

# a database with the module's schema, then the given SQL
sub database {
    my ($dir, $sql) = @_;
    my $db = "$dir/collab.db";

    my $printer = $ENV{COLLAB_SCHEMA}
        or die "COLLAB_SCHEMA is not set (make test-unit sets it)\n";
    my $schema = `$printer`;
    die "$printer failed\n" if $? != 0;

    open my $fh, '|-', "sqlite3 '$db' > /dev/null" or die "sqlite3: $!\n";
    print $fh $schema, ($sql // ''), "\n";
    close $fh or die "sqlite3 failed: $?\n";

    return $db;
}

# SQL text: a quoted string
sub q {
    my ($s) = @_;
    return 'NULL' unless defined $s;
    $s =~ s/'/''/g;
    return "'$s'";
}

sub start {
    my ($class, %opt) = @_;

    socketpair(my $mine, my $theirs, AF_UNIX, SOCK_STREAM, PF_UNSPEC)
        or die "socketpair: $!\n";

    my $stderr = "$opt{dir}/runner-stderr." . ++$CollabRunner::started;
    my @args = ('--database', $opt{database}, @{$opt{args} // []});
    push @args, split ' ', $ENV{COLLAB_RUNNER_ARGS} // '';

    my $bin = $opt{binary} // runner_binary();
    my $pid = fork // die "fork: $!\n";

    if ($pid == 0) {
        close $mine;
        POSIX::dup2(fileno($theirs), 3) or POSIX::_exit(126);
        open STDERR, '>', $stderr or POSIX::_exit(126);

        # the module gives an empty environment; sanitizer options only
        # pass here
        my %keep = map { $_ => $ENV{$_} }
                   grep { /^(ASAN|UBSAN|LSAN)_OPTIONS$/ } keys %ENV;
        %ENV = %keep;

        { no warnings 'exec'; exec { $bin } $bin, @args; }
        POSIX::_exit(127);
    }

    close $theirs;
    binmode $mine;

    my $self = bless { pid => $pid, sock => $mine, buf => '', frames => [],
                       stderr => $stderr }, $class;

    return $self;
}

sub send_frame {
    my ($self, $msg) = @_;
    my $text = ref $msg ? $JSON->encode($msg) : $msg;
    utf8::encode($text) if utf8::is_utf8($text);

    my $data = pack('N', length $text) . $text;
    my $off = 0;

    while ($off < length $data) {
        my $n = syswrite($self->{sock}, $data, length($data) - $off, $off);
        die "write to the runner: $!\n" unless defined $n;
        $off += $n;
    }
}

sub send_raw {
    my ($self, $bytes) = @_;
    syswrite($self->{sock}, $bytes) // die "write: $!\n";
}

# the next frame, or undef after $timeout seconds or at the end
sub next_frame {
    my ($self, $timeout) = @_;
    my $until = time + ($timeout // 60);
    my $sel = IO::Select->new($self->{sock});

    while (1) {
        if (length $self->{buf} >= 4) {
            my $n = unpack('N', $self->{buf});

            if (length $self->{buf} >= 4 + $n) {
                my $text = substr($self->{buf}, 4, $n);
                substr($self->{buf}, 0, 4 + $n) = '';
                return JSON::PP->new->utf8->decode($text);
            }
        }

        my $left = $until - time;
        return undef if $left <= 0;
        next unless $sel->can_read($left);

        my $n = sysread($self->{sock}, my $chunk, 1 << 20);
        return undef unless $n;
        $self->{buf} .= $chunk;
    }
}

# the frame answering id (others wait in a queue)
sub frame_for {
    my ($self, $id, $timeout) = @_;
    my $until = time + ($timeout // 60);

    while (1) {
        for my $i (0 .. $#{$self->{frames}}) {
            my $f = $self->{frames}[$i];
            if (defined $f->{id} && !ref $f->{id} && $f->{id} eq $id) {
                splice @{$self->{frames}}, $i, 1;
                return $f;
            }
        }

        my $left = $until - time;
        return undef if $left <= 0;

        my $f = $self->next_frame($left) // return undef;
        push @{$self->{frames}}, $f;
    }
}

sub ready {
    my ($self) = @_;
    return $self->next_frame(30);
}

sub compile {
    my ($self, $code, $language, $id) = @_;
    $id //= 'c' . ++$self->{seq};
    $self->send_frame({ type => 'compile', id => $id, code => $code,
                        language => $language // 'javascript' });
    return $self->frame_for($id);
}

our %EVENT = (
    event => 'participant.joined',
    data => { userId => 'user-001', roomId => 'room-1' },
    timestamp => '2026-05-29T10:06:00.000Z',
);

# starts one execution; returns its id
sub start_run {
    my ($self, $js, %opt) = @_;
    my $id = $opt{id} // 'exe_' . ++$self->{seq};

    $self->send_frame({
        type => 'run', id => $id, js => $js,
        sourceMap => $opt{sourceMap},
        event => $opt{event} // \%EVENT,
        accountId => $opt{accountId} // 'acc_1',
        roomId => exists $opt{roomId} ? $opt{roomId} : 'room-1',
        online => $opt{online} // [],
        limits => $opt{limits} // {},
    });

    return $id;
}

sub run {
    my ($self, $js, %opt) = @_;
    my $id = $self->start_run($js, %opt);
    return $self->frame_for($id, $opt{wait});
}

# closes the socket; the exit status of the runner and its stderr
sub stop {
    my ($self) = @_;

    close $self->{sock} if $self->{sock};
    undef $self->{sock};

    my $until = time + 30;
    while (time < $until) {
        my $r = waitpid($self->{pid}, WNOHANG);
        if ($r == $self->{pid}) {
            $self->{status} = $?;
            last;
        }
        sleep 0.02;
    }

    if (!defined $self->{status}) {
        kill 'KILL', $self->{pid};
        waitpid($self->{pid}, 0);
        $self->{status} = -1;
    }

    open my $fh, '<', $self->{stderr};
    local $/;
    $self->{stderr_text} = defined $fh ? <$fh> // '' : '';

    return ($self->{status}, $self->{stderr_text});
}

sub DESTROY {
    my ($self) = @_;
    if ($self->{pid} && !defined $self->{status}) {
        kill 'KILL', $self->{pid};
        waitpid($self->{pid}, 0);
    }
}

# a free port on 127.0.0.1 (tcp or udp)
sub free_port {
    my ($proto) = @_;
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => $proto // 'tcp', ReuseAddr => 1)
        or die "no free port: $!\n";
    my $port = $s->sockport;
    close $s;
    return $port;
}

# the test HTTP server: returns (pid, port)
sub http_server {
    my (%opt) = @_;
    my @tls = $opt{cert} ? ($opt{cert}, $opt{key}) : ();

    my $listen = ($opt{address} ? "$opt{address}:" : '') . ($opt{port} // 0);
    my $pid = open(my $out, '-|', 'perl', "$TOP/t/runner/http-server.pl",
                   $listen, $opt{seconds} // 120,
                   $opt{record} // '/dev/null', @tls);
    return () unless $pid;

    my $line = <$out>;
    return () unless defined $line && $line =~ /^port (\d+)/;

    push @CollabRunner::children, $pid;
    $CollabRunner::handles{$pid} = $out;

    return ($pid, $1);
}

# the test DNS server: every A question answered with $address
sub dns_server {
    my ($address, $seconds) = @_;
    my $port = free_port('udp');

    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        { no warnings 'exec';
          exec 'perl', "$TOP/t/lib/dns-responder.pl", $port, $address,
               $seconds // 120; }
        POSIX::_exit(127);
    }

    push @CollabRunner::children, $pid;
    sleep 0.3;

    return ($pid, $port);
}

sub stop_servers {
    local $?;

    for my $pid (@CollabRunner::children) {
        kill 'TERM', $pid;
        waitpid($pid, 0);
    }
    @CollabRunner::children = ();
}

END { stop_servers() }

1;
