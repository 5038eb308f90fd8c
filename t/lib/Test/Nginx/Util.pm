package Test::Nginx::Util;

# Server management for the project's Test::Nginx::Socket implementation:
# global settings, environment handling, the server root, nginx.conf
# generation, starting/stopping nginx and reading its logs.
#
# The public behaviour (function names, environment variables, generated
# nginx.conf layout, test names) follows the CPAN distribution Test::Nginx
# so that test files run unchanged under either implementation.  See
# t/README.md for the supported subset and the known differences.

use strict;
use warnings;

our $VERSION = '0.001';

use base 'Exporter';

use Carp qw(croak);
use Config ();
use File::Path qw(make_path remove_tree);
use File::Spec ();
use IO::Socket::INET ();
use List::Util qw(shuffle min);
use POSIX qw(SIGQUIT SIGKILL SIGTERM WNOHANG);
use Test::More ();
use Time::HiRes qw(sleep time);

sub bail_out (@);
sub expand_env_in_text ($$$);

# ---------------------------------------------------------------------------
# Settings.  Most of them can be changed from a test file through the
# exported setter functions below, or from the environment.
# ---------------------------------------------------------------------------

our $Verbose              = $ENV{TEST_NGINX_VERBOSE};
our $RepeatEach           = 1;
our $LoadModules          = $ENV{TEST_NGINX_LOAD_MODULES};
our $NoShuffle            = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $Timeout              = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $CheckAccumErrLog     = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $PostponeOutput       = $ENV{TEST_NGINX_POSTPONE_OUTPUT};
our $EventType            = $ENV{TEST_NGINX_EVENT_TYPE};
our $NoNginxManager       = $ENV{TEST_NGINX_NO_NGINX_MANAGER} || 0;
our $Randomize            = $ENV{TEST_NGINX_RANDOMIZE};
our $NginxBinary          = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $Workers              = 1;
our $WorkerConnections    = 64;
our $LogLevel             = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $DaemonEnabled        = 'on';
our $ServerAddr           = '127.0.0.1';
our $ServerName           = 'localhost';
our $ServerPort           = $ENV{TEST_NGINX_SERVER_PORT}
                            || $ENV{TEST_NGINX_PORT} || 1984;
our $ServerPortForClient  = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;
our $NoRootLocation       = 0;
our $TestNginxSleep       = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $ForceRestartOnTest   = defined $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST}
                            ? $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST} : 1;
our $WorkerUser           = $ENV{TEST_NGINX_WORKER_USER};
our $NoLongString;
our $FilterHttpConfig;
our $ConfigPreamble       = '';

# The following modes of the CPAN module are not implemented; the variables
# exist so that code referring to them still compiles.
our $CheckLeak = 0;
our $Benchmark = 0;
our $BenchmarkWarmup = 0;
our $UseHup = 0;
our $UseStap;

# Hooks filled in by Test::Nginx::Socket.
our $RunTestHelper;
our $CheckErrorLog;
our $CheckShutdownErrorLog;

our ($NginxVersion, $NginxRawVersion, $OpenSSLVersion, $PcreVersion);
our $RandPorts;           # TEST_NGINX_RAND_PORT_N values of the current block
our $ErrLogFilePos = 0;   # error.log offset already examined
our $PrevConfig;
our $PrevBlock;
our $ChildPid;
our $InSubprocess;

our @EnvToNginx;
our @BlockPreprocessors;
our @CleanupHandlers;
our @TestCleanupHandlers;

if (defined $WorkerUser && $WorkerUser !~ /^\w[-\w]+(?:\s+\w[-\w]+)?$/) {
    die "Bad value in the env TEST_NGINX_WORKER_USER: $WorkerUser\n";
}

if ($Randomize) {
    # A random port and a per-port server root make "prove -jN" possible.
    $ServerPort = gen_rand_port(1000)
        or die "Cannot find an available listening port number.\n";
    $ServerPortForClient = $ServerPort;
}

our $ServRoot = $Randomize
    ? File::Spec->rel2abs("t/servroot_$ServerPort")
    : ($ENV{TEST_NGINX_SERVROOT} || File::Spec->rel2abs('t/servroot'));
$ServRoot =~ s{/+$}{} if $ServRoot ne '/';
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

our $LogDir     = File::Spec->catfile($ServRoot, 'logs');
our $ErrLogFile = File::Spec->catfile($LogDir, 'error.log');
our $AccLogFile = File::Spec->catfile($LogDir, 'access.log');
our $HtmlDir    = File::Spec->catfile($ServRoot, 'html');
our $ConfDir    = File::Spec->catfile($ServRoot, 'conf');
our $ConfFile   = File::Spec->catfile($ConfDir, 'nginx.conf');
our $PidFile    = File::Spec->catfile($LogDir, 'nginx.pid');
our $CacheDir   = File::Spec->catfile($ServRoot, 'cache');

our @EXPORT = qw(
    expand_env_in_text
    use_http2
    use_http3
    env_to_nginx
    is_str
    check_accum_error_log
    is_running
    $NoLongString
    no_long_string
    $ServerAddr
    server_addr
    $ServerName
    server_name
    parse_time
    $UseStap
    verbose
    sleep_time
    bail_out
    add_cleanup_handler
    add_test_cleanup_handler
    access_log_data
    error_log_data
    setup_server_root
    run_customer_init_script
    write_config_file
    get_canon_version
    get_nginx_version
    trim
    show_all_chars
    parse_headers
    run_tests
    get_pid_from_pidfile
    $ServerPortForClient
    $ServerPort
    $NginxVersion
    $PcreVersion
    $PidFile
    $ServRoot
    $ConfFile
    $RunTestHelper
    $CheckErrorLog
    $CheckShutdownErrorLog
    $FilterHttpConfig
    $NoNginxManager
    $RepeatEach
    $CheckLeak
    $Benchmark
    $BenchmarkWarmup
    add_block_preprocessor
    timeout
    worker_connections
    workers
    master_on
    master_off
    config_preamble
    repeat_each
    master_process_enabled
    log_level
    no_shuffle
    no_root_location
    html_dir
    server_root
    server_port
    server_port_for_client
    no_nginx_manager
    use_hup
    is_udp_port_used
    is_tcp_port_used
);

# ---------------------------------------------------------------------------
# Setters and getters used from test files
# ---------------------------------------------------------------------------

sub env_to_nginx (@) {
    croak "env_to_nginx: no arguments specified" if !@_;
    for my $v (@_) {
        if ($v !~ /^[A-Za-z_]/ || $v =~ /\n/) {
            croak "env_to_nginx: bad argument value: $v\n";
        }
        push @EnvToNginx, $v;
    }
}

sub repeat_each (@) {
    $RepeatEach = shift if @_;
    return $RepeatEach;
}

sub workers (@) {
    return $Workers if !@_;
    $Workers = shift;
}

sub worker_connections (@) {
    return $WorkerConnections if !@_;
    $WorkerConnections = shift;
}

sub log_level (@) {
    return $LogLevel if !@_;
    $LogLevel = shift;
}

sub master_on ()  { $MasterProcessEnabled = 'on' }
sub master_off () { $MasterProcessEnabled = 'off' }

sub master_process_enabled (@) {
    return $MasterProcessEnabled if !@_;
    $MasterProcessEnabled = shift() ? 'on' : 'off';
}

sub no_shuffle ()            { $NoShuffle = 1 }
sub no_root_location ()      { $NoRootLocation = 1 }
sub no_long_string ()        { $NoLongString = 1 }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub no_nginx_manager ()      { $NoNginxManager = 1 }
sub config_preamble ($)      { $ConfigPreamble = shift }

# Reloading nginx with HUP instead of restarting it is not implemented;
# nginx is always restarted.
sub use_hup () {
    Test::More::diag("use_hup() is not supported by this Test::Nginx; "
                     . "nginx is restarted instead");
}

# HTTP/2 and HTTP/3 clients are not implemented.
sub use_http2 ($) { return 0 }
sub use_http3 ($) { return 0 }

sub timeout (@) {
    return $Timeout if !@_;
    $Timeout = shift;
}

sub server_addr (@) {
    return $ServerAddr if !@_;
    $ServerAddr = shift;
}

sub server_name (@) {
    return $ServerName if !@_;
    $ServerName = shift;
}

sub server_port (@) {
    return $ServerPort if !@_;
    $ServerPort = shift;
}

sub server_port_for_client (@) {
    return $ServerPortForClient if !@_;
    $ServerPortForClient = shift;
}

sub html_dir ()    { return $HtmlDir }
sub server_root () { return $ServRoot }
sub sleep_time     { return $TestNginxSleep }
sub verbose        { return $Verbose }

# Block preprocessors added later run first, as in the CPAN module.
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }
sub add_cleanup_handler ($)      { unshift @CleanupHandlers, shift }
sub add_test_cleanup_handler ($) { unshift @TestCleanupHandlers, shift }

sub bail_out (@) {
    cleanup();
    Test::More::BAIL_OUT(join '', @_);
}

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

# "50ms" -> 0.05, "2s" -> 2, "1.5" -> 1.5
sub parse_time ($) {
    my $tm = shift;
    if (defined $tm) {
        if ($tm =~ s/([^_a-zA-Z])ms$/$1/) {
            $tm = $tm / 1000;
        } else {
            $tm =~ s/([^_a-zA-Z])s$/$1/;
        }
    }
    return $tm;
}

sub trim ($) {
    my $s = shift;
    return undef if !defined $s;
    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\n/ /gs;
    $s =~ s/\s{2,}/ /gs;
    return $s;
}

sub show_all_chars ($) {
    my $s = shift;
    $s =~ s/\n/\\n/gs;
    $s =~ s/\r/\\r/gs;
    $s =~ s/\t/\\t/gs;
    return $s;
}

# Parses a "--- response_headers" value into { name => value }; a value of
# undef means "this header must be absent" ("!Name" lines).
sub parse_headers ($) {
    my $s = shift;
    my %headers;
    for my $line (split /\n/, $s) {
        $line =~ s/^\s+|\s+$//g;
        next if $line eq '';
        if ($line =~ s/^!\s*//) {
            $headers{$line} = undef;
        } else {
            my ($key, $val) = split /\s*:\s*/, $line, 2;
            $headers{$key} = $val;
        }
    }
    return \%headers;
}

# String comparison honouring no_long_string() and Regexp expectations.
sub is_str (@) {
    my ($got, $expected, $desc) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    if (ref $expected && ref $expected eq 'Regexp') {
        return Test::More::like($got, $expected, $desc);
    }

    if ($NoLongString) {
        return Test::More::is($got, $expected, $desc);
    }

    return is_long_string($got, $expected, $desc);
}

# Like Test::More::is(), but on failure shows where the two strings start
# to differ (with control characters made visible) instead of dumping both
# strings in full, followed by a line diff for multi-line values.
sub is_long_string {
    my ($got, $expected, $desc) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    if (!defined $got || !defined $expected) {
        return Test::More::is($got, $expected, $desc);
    }

    my $tb = Test::More->builder;
    return 1 if $tb->ok($got eq $expected, $desc);

    # Offset of the first differing character.
    my $common = min(length $got, length $expected);
    my $pos = 0;
    if ((substr($got, 0, $common) ^ substr($expected, 0, $common))
        =~ /^(\0*)/)
    {
        $pos = length $1;
    }

    my $before = substr($expected, 0, $pos);
    my $line = ($before =~ tr/\n//) + 1;
    my $col = $pos - (rindex($before, "\n") + 1) + 1;
    my $from = $pos > 30 ? $pos - 30 : 0;

    my $excerpt = sub {
        my $s = shift;
        my $part = substr($s, $from, 70);
        $part =~ s/([\\"])/\\$1/g;
        $part =~ s/\n/\\n/g;
        $part =~ s/\r/\\r/g;
        $part =~ s/\t/\\t/g;
        $part =~ s/([\0-\037\177-\377])/sprintf('\\x%02x', ord $1)/ge;
        return ($from > 0 ? '...' : '') . qq{"$part"}
               . ($from + 70 < length $s ? '...' : '');
    };

    $tb->diag(sprintf("%12s: %s\n%12s: %d\n%12s: %s\n%12s: %d\n"
                      . "    first difference at offset %d "
                      . "(line %d, column %d)\n",
                      'got', $excerpt->($got), 'length', length $got,
                      'expected', $excerpt->($expected),
                      'length', length $expected, $pos, $line, $col));

    if ($expected =~ /\n./s && eval { require Text::Diff; 1 }) {
        $tb->diag(Text::Diff::diff(\$expected, \$got,
                                   { STYLE => 'Unified' }));
    }

    return 0;
}

sub get_canon_version (@) {
    return sprintf "%d.%03d%03d", $_[0], $_[1], $_[2];
}

sub can_run {
    my ($cmd) = @_;

    if ($cmd =~ m{[/\\]}) {
        return -f $cmd && -x _ ? $cmd : undef;
    }

    for my $dir (split(/\Q$Config::Config{path_sep}\E/, $ENV{PATH} || ''),
                 '.')
    {
        next if $dir eq '';
        my $abs = File::Spec->catfile($dir, $cmd);
        return $abs if -f $abs && -x _;
    }

    return undef;
}

# The plain name "nginx" is looked up in PATH; when it is not there (for
# instance /usr/sbin is missing from a non-root PATH) the usual install
# locations are tried.
sub resolve_nginx_binary {
    return $NginxBinary if can_run($NginxBinary);
    if ($NginxBinary eq 'nginx') {
        for my $cand (qw(/usr/sbin/nginx /usr/local/sbin/nginx
                         /usr/local/nginx/sbin/nginx))
        {
            if (-f $cand && -x _) {
                $NginxBinary = $cand;
                last;
            }
        }
    }
    return $NginxBinary;
}

my $NginxV;

sub nginx_V {
    if (!defined $NginxV) {
        resolve_nginx_binary();
        my $out = `$NginxBinary -V 2>&1`;
        if (!defined $out || $? != 0) {
            bail_out("Failed to get the version of the nginx binary "
                     . "\"$NginxBinary\": " . ($out // $!));
        }
        $NginxV = $out;
    }
    return $NginxV;
}

sub get_nginx_version () {
    my $out = nginx_V();

    if ($out =~ m{built with OpenSSL (\d+)\.(\d+)\.(\d+)([a-z])?}s) {
        $OpenSSLVersion = defined $4
            ? sprintf("%d.%03d%03d%03d", $1, $2, $3, ord($4) - ord('a'))
            : get_canon_version($1, $2, $3);
    }

    if ($out =~ m{(?:nginx|openresty)[^/]*/(\d+)\.(\d+)\.(\d+)}s
        || $out =~ m{\w+/(\d+)\.(\d+)\.(\d+)}s)
    {
        $NginxRawVersion = "$1.$2.$3";
        return get_canon_version($1, $2, $3);
    }

    bail_out("Failed to parse the output of \"nginx -V\": $out\n");
}

sub get_pid_from_pidfile ($) {
    my ($name) = @_;
    open my $in, '<', $PidFile
        or bail_out("$name - Failed to open the pid file $PidFile for "
                    . "reading: $!");
    my $pid = do { local $/; <$in> };
    close $in;
    $pid = '' if !defined $pid;
    $pid =~ s/\s+//g;
    return $pid;
}

# kill(0) alone is not enough: a daemonized nginx is re-parented to PID 1,
# which may not reap it, so an exited process can linger as a zombie.
sub is_running ($) {
    my $pid = shift;
    return 0 if !$pid || !kill(0, $pid);
    if (open my $fh, '<', "/proc/$pid/stat") {
        my $stat = <$fh>;
        close $fh;
        return 0 if defined $stat && $stat =~ /^\d+ \(.*\) [ZX]/s;
    }
    return 1;
}

sub gen_rand_port {
    my ($tries, $used) = @_;
    $tries //= 1000;
    $used //= {};

    for (1 .. $tries) {
        # Ports 1985..1987 are left alone, as in the CPAN module.
        my $port = int(rand 63547) + 1988;
        next if $used->{$port};

        my $sock = IO::Socket::INET->new(
            LocalAddr => $ServerAddr,
            LocalPort => $port,
            Proto     => 'tcp',
            Listen    => 5,
            ReuseAddr => 1,
        );
        if ($sock) {
            close $sock;
            return $port;
        }
    }

    return undef;
}

sub _port_in_proc_table {
    my ($file, $port) = @_;
    open my $fh, '<', $file or return undef;
    my $found = 0;
    while (my $line = <$fh>) {
        if ($line =~ /^\s*\d+: [0-9A-Fa-f]+:([0-9A-Fa-f]+) /
            && hex($1) == $port)
        {
            $found = 1;
            last;
        }
    }
    close $fh;
    return $found;
}

sub is_tcp_port_used ($) {
    my $port = shift;
    return 1 if _port_in_proc_table('/proc/net/tcp', $port);
    return _port_in_proc_table('/proc/net/tcp6', $port) ? 1 : 0;
}

sub is_udp_port_used ($) {
    my $port = shift;
    return 1 if _port_in_proc_table('/proc/net/udp', $port);
    return _port_in_proc_table('/proc/net/udp6', $port) ? 1 : 0;
}

# True when something is in LISTEN state on $port according to
# /proc/net/tcp{,6}; undef when /proc is not available.
sub is_tcp_port_listening {
    my $port = shift;
    my $seen_table;
    for my $file ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $fh, '<', $file or next;
        $seen_table = 1;
        while (my $line = <$fh>) {
            # local_address rem_address st ...; st 0A is LISTEN
            if ($line =~ /^\s*\d+: [0-9A-Fa-f]+:([0-9A-Fa-f]+) \S+ 0A /
                && hex($1) == $port)
            {
                return 1;
            }
        }
        close $fh;
    }
    return $seen_table ? 0 : undef;
}

# Replaces $TEST_NGINX_FOO with the value of the environment variable
# TEST_NGINX_FOO (bailing out when it is not set), and $TEST_NGINX_RAND_PORT_N
# with a free port number that stays the same for the whole test block.
sub expand_env_in_text ($$$) {
    my ($text, $name, $rand_ports) = @_;
    return undef if !defined $text;

    $rand_ports //= {};
    my %used = ($ServerPort => 1, map { $_ => 1 } values %$rand_ports);

    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $var = $1;
        my $val;
        if ($var =~ /^TEST_NGINX_RAND_PORT_[0-9]+$/) {
            if (!defined $rand_ports->{$var}) {
                my $port = gen_rand_port(1000, \%used);
                if (!defined $port) {
                    bail_out("$name - Cannot find an available listening "
                             . "port number for $var.\n");
                }
                $rand_ports->{$var} = $port;
                $used{$port} = 1;
            }
            $val = $rand_ports->{$var};
        } else {
            if (!defined $ENV{$var}) {
                bail_out("$name - No environment $var defined.\n");
            }
            $val = $ENV{$var};
        }
        $val;
    }eg;

    return $text;
}

# ---------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------

# Lines of error.log written since the previous call (or all of them with
# check_accum_error_log()).  The short sleep gives nginx a chance to finish
# its log-phase output, which happens after the response has been sent.
sub error_log_data () {
    sleep $TestNginxSleep * 3;

    open my $in, '<', $ErrLogFile or return undef;

    if (!$CheckAccumErrLog && $ErrLogFilePos > 0) {
        seek $in, $ErrLogFilePos, 0;
    }

    my @lines = <$in>;

    if (!$CheckAccumErrLog) {
        $ErrLogFilePos = tell($in);
    }

    close $in;
    return \@lines;
}

# Lines of $file from byte offset $pos on.
sub read_lines_from {
    my ($file, $pos) = @_;
    open my $in, '<', $file or return ();
    seek $in, $pos, 0 if $pos;
    my @lines = <$in>;
    close $in;
    return @lines;
}

sub access_log_data () {
    sleep $TestNginxSleep * 3;

    open my $in, '<', $AccLogFile or do {
        die "open $AccLogFile failed: $!" if $AccLogFile ne 'off';
        return undef;
    };
    my @lines = <$in>;
    close $in;
    return \@lines;
}

sub check_if_missing_directives {
    open my $in, '<', $ErrLogFile or return 0;
    while (my $line = <$in>) {
        if ($line =~ /\[emerg\] \S+?: unknown directive "([^"]+)"/) {
            close $in;
            return $1;
        }
    }
    close $in;
    return 0;
}

sub check_prev_block_shutdown_error_log {
    my $block = $PrevBlock;
    return if !defined $block || !$CheckShutdownErrorLog;

    if (defined $block->shutdown_error_log
        || defined $block->no_shutdown_error_log)
    {
        $CheckShutdownErrorLog->($block,
                                 $ENV{TEST_NGINX_NO_CLEAN} ? 1 : undef);
    }
}

# ---------------------------------------------------------------------------
# Server root and configuration
# ---------------------------------------------------------------------------

# Recreates the server root.  Only the directories this module creates
# itself are removed (conf, html, logs, cache, *_temp, *_cache); anything
# else left in the server root makes the final rmdir fail, so that a
# mistaken TEST_NGINX_SERVROOT can never wipe unrelated data.
sub setup_server_root () {
    if (-d $ServRoot) {
        remove_tree($ConfDir, glob("$ServRoot/*_cache"),
                    glob("$ServRoot/*_temp"));
        remove_tree($CacheDir, $HtmlDir, $LogDir);
        if (!rmdir $ServRoot) {
            my $err = "$!";
            my @left = map { s{.*/}{}r } glob("$ServRoot/*"),
                       glob("$ServRoot/.[!.]*");
            bail_out("Can't remove $ServRoot (not empty?): $err; left "
                     . "behind: @left (only conf, html, logs, cache, *_temp "
                     . "and *_cache are cleaned between blocks)");
        }
    }

    for my $dir ($ServRoot, $LogDir, $HtmlDir, $ConfDir) {
        next if -d $dir;
        mkdir $dir or bail_out("Failed to do mkdir $dir: $!\n");
    }

    my $index = File::Spec->catfile($HtmlDir, 'index.html');
    open my $out, '>', $index
        or bail_out("Can't open $index for writing: $!\n");
    print $out '<html><head><title>It works!</title></head>'
               . '<body>It works!</body></html>';
    close $out;
}

sub run_customer_init_script ($) {
    my $block = shift;
    my $code = $block->post_setup_server_root;
    return if !$code;

    eval $code;
    if ($@) {
        bail_out($block->name . " - post_setup_server_root failed: $@");
    }
}

# "--- user_files" is either text made of ">>> path [mtime]" headers each
# followed by the file content, or (with the eval filter) an array of
# [path, content, mtime] triples.  Relative paths land in html/.
sub write_user_files ($$) {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;
    my $files = $block->user_files;
    return if !$files;

    if (!ref $files) {
        my @list;
        my ($fname, $body, $date);
        for my $line (split /^/, $files) {
            if ($line =~ />>> (\S+)(?:\s+(.+))?/) {
                push @list, [$fname, $body, $date] if $fname;
                ($fname, $date, $body) = ($1, $2, undef);
            } else {
                $body .= $line;
            }
        }
        push @list, [$fname, $body, $date] if $fname;
        $files = \@list;

    } elsif (ref $files ne 'ARRAY') {
        bail_out("$name - wrong value type: ", ref $files,
                 ", only scalar or ARRAY are accepted");
    }

    for my $file (@$files) {
        my ($fname, $body, $date) = @$file;
        $body = '' if !defined $body;

        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        if ($path =~ m{(.*)/} && !-d $1) {
            make_path($1) or bail_out("$name - Cannot create directory $1");
        }

        $body = expand_env_in_text($body, $name, $rand_ports);

        open my $out, '>', $path
            or bail_out("$name - Cannot open $path for writing: $!\n");
        binmode $out;
        print $out $body;
        close $out;

        if ($date) {
            my $cmd = "TZ=GMT touch -t '$date' '$path'";
            system($cmd) == 0
                or bail_out("Failed to run shell command: $cmd\n");
        }
    }
}

# Writes conf/nginx.conf with the same layout as the CPAN module:
#
#   worker_processes/daemon/master_process/error_log/pid, env lines,
#   [load_module lines] main_config,
#   http { access_log, temp paths, default_type, keepalive_timeout,
#          http_config,
#          server { listen, server_name, client_max_body_size,
#                   config_preamble, config, location / } }
#   post_main_config, events { }, and "user root;" when running as root.
#
# The trailing "user root;" matters with master_on(): without it, workers
# started by root would switch to the compiled-in default user (nobody),
# which usually cannot read files under the server root.
sub write_config_file ($$$) {
    my ($block, $config, $rand_ports) = @_;

    my $name = $block->name;
    my $http_config = expand_env_in_text($block->http_config, $name,
                                         $rand_ports);
    $config = '' if !defined $config;
    $http_config = '' if !defined $http_config;

    if ($FilterHttpConfig) {
        $http_config = $FilterHttpConfig->($http_config);
    }

    my $extra_http_config = '';
    if (defined $PostponeOutput && $http_config !~ /\bpostpone_output\b/) {
        if ($PostponeOutput !~ /^\d+$/) {
            bail_out("Bad TEST_NGINX_POSTPONE_OUTPUT value: "
                     . "$PostponeOutput\n");
        }
        $extra_http_config = "    postpone_output $PostponeOutput;\n";
    }

    my $main_config = $block->main_config;
    $main_config = '' if !defined $main_config;
    if ($LoadModules) {
        my @modules = map { "load_module $_;" } grep { $_ }
                      split /\s+/, $LoadModules;
        $main_config = join ' ', @modules, $main_config if @modules;
    }
    $main_config = expand_env_in_text($main_config, $name, $rand_ports);

    my $post_main_config = expand_env_in_text($block->post_main_config,
                                              $name, $rand_ports);
    $post_main_config = '' if !defined $post_main_config;

    my $err_log_file = $block->error_log_file || $ErrLogFile;
    $err_log_file = expand_env_in_text($err_log_file, $name, $rand_ports);

    my $server_name = $block->server_name;
    $server_name = $ServerName if !defined $server_name;

    # Temp paths point into the server root; skip the ones for modules that
    # were compiled out or that the test configures itself.
    my $nginx_V = nginx_V();
    my @temp_paths;
    for my $mod (qw(client_body proxy fastcgi scgi uwsgi)) {
        next if $nginx_V =~ /--without-http_${mod}_module/;
        next if $http_config =~ /\b${mod}_temp_path\b/;
        push @temp_paths, "${mod}_temp_path $ServRoot/${mod}_temp;";
    }

    my $env = '';
    for my $v (@EnvToNginx) {
        my $quoted = $v =~ /\s/ ? "'$v'" : $v;
        $env .= "env $quoted;\n";
    }

    my $root_location = $NoRootLocation ? '' : <<"_EOC_";
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_

    my $event_type = $EventType ? "    use $EventType;\n" : '';

    my $user = '';
    if (defined $WorkerUser) {
        $user = "user $WorkerUser;\n";
    } elsif ($> == 0) {
        $user = "user root;\n";
    }

    my $temp = join ' ', @temp_paths;

    open my $out, '>', $ConfFile
        or bail_out("Can't open $ConfFile for writing: $!\n");

    print $out <<"_EOC_";
worker_processes  $Workers;
daemon $DaemonEnabled;
master_process $MasterProcessEnabled;
error_log $err_log_file $LogLevel;
pid       $PidFile;
$env
$main_config

http {
    access_log $AccLogFile; $temp

    default_type text/plain;
    keepalive_timeout  68000ms;

$http_config
    server {
        listen          $ServerPort;
        server_name     '$server_name';
        client_max_body_size 30M;

        # Begin preamble config...
$ConfigPreamble
        # End preamble config...

        # Begin test case config...
$config
        # End test case config.

$root_location    }
$extra_http_config}

$post_main_config

events {
    accept_mutex off;

    worker_connections  $WorkerConnections;
$event_type}
$user
_EOC_

    close $out;
}

# ---------------------------------------------------------------------------
# Starting and stopping nginx
# ---------------------------------------------------------------------------

sub nginx_command {
    my ($block) = @_;

    my $cmd = "$NginxBinary";
    # "-e" (nginx >= 1.19.5) keeps start-up errors out of the compiled-in
    # error log path and puts them into the server root's error.log.
    if (defined $NginxVersion && $NginxVersion >= 1.019005) {
        $cmd .= " -e $ErrLogFile";
    }
    $cmd .= " -p $ServRoot/ -c $ConfFile > /dev/null";

    if (defined $block->suppress_stderr) {
        $cmd .= " 2> /dev/null";
    }

    if (defined $ENV{TEST_NGINX_LD_PRELOAD}) {
        my $preload = $ENV{TEST_NGINX_LD_PRELOAD};
        $preload .= " $ENV{LD_PRELOAD}" if defined $ENV{LD_PRELOAD};
        $cmd = qq{LD_PRELOAD="$preload" $cmd};
    }

    return $cmd;
}

# Runs the nginx command line; returns ($status, $exec_failed, $exit_code,
# $coredump) from system().
sub run_nginx_command {
    my ($cmd) = @_;
    warn "running: $cmd\n" if $Verbose;
    system($cmd);
    my $status = $?;
    return ($status, 1, undef, 0) if $status == -1;
    return ($status, 0, $status >> 8, $status & 128);
}

# Waits (bounded by timeout()) until the freshly started nginx has written
# its pid file and its listening socket shows up.  The check reads
# /proc/net/tcp rather than connecting, so that no extra client connection
# appears in error.log.  Connection attempts in send_request() retry as well.
sub wait_for_nginx {
    my ($name) = @_;
    my $deadline = time + timeout();

    while (time < $deadline) {
        if (-s $PidFile) {
            my $pid = get_pid_from_pidfile($name);
            if ($pid && is_running($pid)) {
                my $listening = is_tcp_port_listening($ServerPort);
                return 1 if !defined $listening || $listening;
            }
        }
        sleep $TestNginxSleep;
    }

    warn "$name - nginx did not start listening on port $ServerPort "
         . "within " . timeout() . " sec\n";
    return 0;
}

# Sends QUIT (TERM with TEST_NGINX_FAST_SHUTDOWN) and waits for the process
# to exit, falling back to SIGKILL for the whole process group.  A
# daemonized nginx master is a process group leader, so the group kill
# takes its workers down with it.
sub kill_process {
    my ($pid, $wait, $name) = @_;
    return if !defined $pid || !is_running($pid);

    my $sig = $ENV{TEST_NGINX_FAST_SHUTDOWN} ? SIGTERM : SIGQUIT;
    warn "sending signal $sig to $pid\n" if $Verbose;
    kill $sig, $pid;

    if ($wait) {
        my $left = timeout();
        while ($left > 0 && is_running($pid)) {
            waitpid($pid, WNOHANG);
            sleep 0.02;
            $left -= 0.02;
        }
    }

    if (is_running($pid)) {
        warn "$name - WARNING: killing the process $pid with force\n";
        if (getpgrp($pid) == $pid) {
            kill SIGKILL, -$pid;
        } else {
            kill SIGKILL, $pid;
        }

        my $left = 2;
        while ($left > 0 && is_running($pid)) {
            waitpid($pid, WNOHANG);
            sleep 0.02;
            $left -= 0.02;
        }
    }
}

# Stops the nginx recorded in the pid file, if any.
sub stop_nginx {
    my ($name) = @_;
    return if !-f $PidFile;

    my $pid = get_pid_from_pidfile($name);
    if ($pid && is_running($pid)) {
        kill_process($pid, 1, $name);
    }

    if (-f $PidFile) {
        unlink $PidFile;
    }
}

sub cleanup_test {
    my $block = shift;
    $_->($block) for @TestCleanupHandlers;
}

sub cleanup {
    $_->() for @CleanupHandlers;

    if (defined $ChildPid) {
        kill_process($ChildPid, 1, 'cleanup');
        undef $ChildPid;
    }
}

# ---------------------------------------------------------------------------
# Running the blocks
# ---------------------------------------------------------------------------

sub run_tests () {
    srand($$ + int(time * 1000));

    $NginxVersion = get_nginx_version();

    if (!defined $ENV{TEST_NGINX_SERVER_PORT}) {
        $ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;
    }

    # Blocks run in random order unless no_shuffle() or
    # TEST_NGINX_NO_SHUFFLE=1, as in the CPAN module.
    my @blocks = Test::Base::blocks();
    @blocks = shuffle @blocks if !$NoShuffle;

    for my $block (@blocks) {
        $_->($block) for @BlockPreprocessors;

        $block->set_value('name', "$0 " . $block->name);
        run_test($block);
        cleanup_test($block);

        $PrevBlock = $block;
    }

    cleanup();
}

# Sections of the CPAN module that this implementation does not provide.
# A block using one of them fails instead of silently passing.
my @UnsupportedSections = qw(
    stap stap_out stap_out_like stap_out_unlike
    tcp_listen tcp_reply tcp_query tcp_query_len tcp_reply_delay
    tcp_shutdown tcp_shutdown_delay tcp_no_close tcp_query_auto_timeout
    udp_listen udp_reply udp_query udp_reply_delay
    http2 http3 quic_max_idle_timeout curl_protocol curl_options curl_error
    reload_fails
);

sub check_unsupported_sections {
    my $block = shift;
    my @found = grep { defined $block->$_ } @UnsupportedSections;
    return 1 if !@found;

    Test::More::fail($block->name . " - section(s) not supported by the "
                     . "bundled Test::Nginx::Socket: "
                     . join(', ', map { "--- $_" } @found));
    return 0;
}

# Evaluates skip_eval / skip_nginx / skip_nginx2 / skip_openssl / todo /
# todo_nginx.  Returns ($should_skip, $tests_to_skip, $skip_reason,
# $should_todo, $todo_reason).
sub eval_skip_conditions {
    my $block = shift;
    my $name = $block->name;
    my ($should_skip, $tests_to_skip, $skip_reason);

    my $cmp = sub {
        my ($op, $ver) = @_;
        return 1 if !defined $NginxVersion && $op =~ /^</;
        return 0 if !defined $NginxVersion;
        return $op eq '<'  ? $NginxVersion <  $ver
             : $op eq '<=' ? $NginxVersion <= $ver
             : $op eq '>'  ? $NginxVersion >  $ver
             :               $NginxVersion >= $ver;
    };

    if (defined(my $spec = $block->skip_eval)) {
        if ($spec =~ /^\s*(\d+)\s*:\s*(.*)/s) {
            ($tests_to_skip, $skip_reason) = ($1, 'skip_eval');
            my $code = $2;
            # Evaluated in this package, like the CPAN module does, so that
            # e.g. $NginxVersion can be used unqualified.
            $should_skip = eval $code;
            if ($@) {
                bail_out("$name - skip_eval - failed to eval the Perl code "
                         . "\"$code\": $@");
            }
        }
    }

    if (defined(my $spec = $block->skip_nginx)) {
        if ($spec =~ m{^ \s* (\d+) \s* : \s* ([<>]=?) \s* (\d+)\.(\d+)\.(\d+)
                        (?: \s* : \s* (.*) )? \s*$}x)
        {
            $tests_to_skip = $1;
            my ($op, @v) = ($2, $3, $4, $5);
            $skip_reason = $6 || "nginx version $op " . join('.', @v);
            $should_skip = 1 if $cmp->($op, get_canon_version(@v));
        } else {
            bail_out("$name - Invalid --- skip_nginx spec: $spec");
        }

    } elsif (defined(my $spec2 = $block->skip_nginx2)) {
        if ($spec2 =~ m{^ \s* (\d+) \s* : \s*
                         ([<>]=?) \s* (\d+)\.(\d+)\.(\d+) \s* (or|and) \s*
                         ([<>]=?) \s* (\d+)\.(\d+)\.(\d+)
                         (?: \s* : \s* (.*) )? \s*$}x)
        {
            $tests_to_skip = $1;
            my $first = $cmp->($2, get_canon_version($3, $4, $5));
            my $second = $cmp->($7, get_canon_version($8, $9, $10));
            $skip_reason = $11;
            if (!defined $NginxVersion
                || ($6 eq 'or' ? ($first || $second) : ($first && $second)))
            {
                $should_skip = 1;
            }
        } else {
            bail_out("$name - Invalid --- skip_nginx2 spec: $spec2");
        }
    }

    if (defined(my $spec = $block->skip_openssl)) {
        if ($spec =~ m{^ \s* (\d+) \s* : \s* ([<>]=?) \s*
                        (\d+)\.(\d+)\.(\d+)([a-z])?
                        (?: \s* : \s* (.*) )? \s*$}x)
        {
            $tests_to_skip = $1;
            my ($op, $v4) = ($2, $6);
            my $ver = defined $v4
                ? sprintf("%d.%03d%03d%03d", $3, $4, $5, ord($v4) - ord('a'))
                : get_canon_version($3, $4, $5);
            $skip_reason = $7 || (defined $OpenSSLVersion
                ? "OpenSSL version $op $3.$4.$5" . ($v4 // '')
                : "Not built with OpenSSL");
            if (!defined $OpenSSLVersion
                || eval "$OpenSSLVersion $op $ver")
            {
                $should_skip = 1;
            }
        } else {
            bail_out("$name - Invalid --- skip_openssl spec: $spec");
        }
    }

    $skip_reason = 'various reasons' if !defined $skip_reason;

    my ($should_todo, $todo_reason);
    if (defined(my $spec = $block->todo_nginx)) {
        if ($spec =~ m{^ \s* ([<>]=?) \s* (\d+)\.(\d+)\.(\d+)
                        (?: \s* : \s* (.*) )? \s*$}x)
        {
            $todo_reason = $5;
            $should_todo = 1 if $cmp->($1, get_canon_version($2, $3, $4));
        } else {
            bail_out("$name - Invalid --- todo_nginx spec: $spec");
        }
    }

    if (defined(my $spec = $block->todo)) {
        if ($spec =~ /^\s*(\d+)\s*:\s*(.*)/s) {
            ($should_todo, $tests_to_skip, $todo_reason) = (1, $1, $2);
        } else {
            bail_out("$name - Invalid --- todo spec: $spec");
        }
    }

    $todo_reason = 'various reasons' if !defined $todo_reason;

    return ($should_skip, $tests_to_skip, $skip_reason, $should_todo,
            $todo_reason);
}

# "--- must_die": nginx is expected to fail at start-up.
sub run_must_die_test {
    my ($block, $cmd, $dry_run) = @_;
    my $name = $block->name;
    my $must_die = $block->must_die;

    $ErrLogFilePos = 0;
    for my $i (0 .. $RepeatEach - 1) {
        my ($status, $exec_failed, $exit_code, $coredump)
            = run_nginx_command($cmd);

        if ($exec_failed) {
            Test::More::fail("$name - failed to execute the nginx command "
                             . "line");
        } elsif ($coredump) {
            Test::More::fail("$name - nginx core dumped");
        } elsif ($must_die =~ /^\s*\d+\s*$/) {
            Test::More::is($must_die, $exit_code,
                           "$name - die with the expected exit code");
        } else {
            Test::More::isnt($status, 0, "$name - die as expected");
        }

        $CheckErrorLog->($block, undef, $dry_run, $i, 0);

        if ($status == 0) {
            warn "WARNING: $name - nginx must die but it does not; "
                 . "killing it (req $i)\n";
            for (1 .. 15) {
                last if -f $PidFile;
                sleep $TestNginxSleep;
            }
            stop_nginx($name);
        }
    }
}

sub run_test {
    my $block = shift;

    return if defined $block->SKIP;

    my $name = $block->name;

    return if !check_unsupported_sections($block);

    my $rand_ports = {};
    $RandPorts = $rand_ports;

    my $config = expand_env_in_text($block->config, $name, $rand_ports);
    my $dry_run = 0;

    local $LogLevel = $LogLevel;
    $LogLevel = $block->log_level if $block->log_level;

    # By default nginx is restarted for every block.  A block without a
    # "--- config" section keeps using the nginx started for the previous
    # block; with TEST_NGINX_FORCE_RESTART_ON_TEST=0, nginx is only
    # restarted when the config section changes.
    my ($should_restart, $should_reconfig) = (1, 1);
    if (!defined $config) {
        if (!$NoNginxManager && !defined $PrevConfig) {
            bail_out("$name - No '--- config' section specified and could "
                     . "not get previous one. "
                     . "Use TEST_NGINX_NO_NGINX_MANAGER ?");
        }
        ($should_restart, $should_reconfig) = (0, 0);

    } elsif ($NoNginxManager) {
        Test::More::diag("NO_NGINX_MANAGER activated: config for $name "
                         . "ignored");
        ($should_restart, $should_reconfig) = (0, 0);

    } else {
        $should_reconfig = !defined $PrevConfig || $config ne $PrevConfig;
        $should_restart = $should_reconfig || $ForceRestartOnTest;
    }

    my ($should_skip, $tests_to_skip, $skip_reason, $should_todo,
        $todo_reason) = eval_skip_conditions($block);

    if (!$NoNginxManager && !$should_skip && $should_restart) {
        $PrevConfig = $config if $should_reconfig;

        stop_nginx($name);
        check_prev_block_shutdown_error_log();

        setup_server_root();
        run_customer_init_script($block);
        write_user_files($block, $rand_ports);
        write_config_file($block, $config, $rand_ports);

        if (!can_run($NginxBinary)) {
            bail_out("$name - Cannot find the nginx executable "
                     . "\"$NginxBinary\"");
        }

        my $cmd = nginx_command($block);

        if (defined $block->must_die) {
            run_must_die_test($block, $cmd, $dry_run);
            return;
        }

        my $waited = 0;
        while (1) {
            my $log_pos = -s $ErrLogFile || 0;
            my ($status) = run_nginx_command($cmd);
            last if $status == 0;

            if ($ENV{TEST_NGINX_IGNORE_MISSING_DIRECTIVES}
                and my $directive = check_if_missing_directives())
            {
                $dry_run = "the lack of directive $directive";
                last;
            }

            # The port may still be held by an nginx that is going away;
            # other start-up failures (bad config, missing module, ...) are
            # reported at once.
            my $emerg = join '', grep { /\[emerg\]/ }
                        read_lines_from($ErrLogFile, $log_pos);
            if ($emerg =~ /Address already in use/ && $waited < 30) {
                my $delay = 0.1 * (1 + int($waited));
                $delay = 1 if $delay > 1;
                sleep $delay;
                $waited += $delay;
                next;
            }

            # nginx has already printed the reason on stderr (unless
            # --- suppress_stderr); repeat it for the record.
            Test::More::diag($emerg) if $emerg ne '';
            bail_out("$name - Cannot start nginx using command \"$cmd\" "
                     . "(status code $status).");
        }

        wait_for_nginx($name) if !$dry_run;
    }

    if ($block->init) {
        eval $block->init;
        bail_out("$name - init failed: $@") if $@;
    }

    $ErrLogFilePos = 0;
    for my $i (1 .. $RepeatEach) {
        warn "Run the test block $name ...\n" if $Verbose;

        if ($i > 1) {
            write_user_files($block, $rand_ports);
        }

        if ($should_skip && defined $tests_to_skip) {
          SKIP: {
                Test::More::skip("$name - $skip_reason", $tests_to_skip);
            }

        } elsif ($should_todo) {
          TODO: {
                Test::More::todo_skip("$name - $todo_reason",
                                      $tests_to_skip);
            }

        } else {
            $RunTestHelper->($block, $dry_run, $i - 1);
        }
    }

    if (my $total_errlog = $ENV{TEST_NGINX_ERROR_LOG}) {
        if (-s $ErrLogFile) {
            if (open my $out, '>>', $total_errlog) {
                print $out "\n=== $0 $name\n";
                if (open my $in, '<', $ErrLogFile) {
                    local $/;
                    print $out scalar <$in>;
                    close $in;
                }
                close $out;
            } else {
                bail_out("Failed to append to $total_errlog: $!\n");
            }
        }
    }
}

END {
    return if $InSubprocess;

    # Keep the exit status that Test::Builder is about to report.
    local $?;

    cleanup();

    # TEST_NGINX_NO_CLEAN=1 leaves the last nginx running (and the server
    # root in place, which is never removed anyway) for manual inspection.
    if (!$ENV{TEST_NGINX_NO_CLEAN} && defined $PidFile && -f $PidFile) {
        stop_nginx('END');
    }

    check_prev_block_shutdown_error_log();

    if ($Randomize && defined $ServRoot && -d $ServRoot
        && $ServRoot =~ m{/t/servroot_\d+$})
    {
        remove_tree($ServRoot);
    }
}

1;
