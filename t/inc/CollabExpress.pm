package CollabExpress;

# The product document's Express verifier (t/express/receiver.js) as a
# webhook receiver of a test: start() runs it on
# $TEST_NGINX_COLLAB_EXPRESS_PORT (from a block's "--- init"), its output
# in logs/express.log, after stopping the one of the previous block, and
# waits until it listens; it exits by itself after 20 seconds in any case.
# skip_reason() says why a test file cannot run (no node); without the
# express package that util/deps.sh installs into the build folder
# ($TEST_NGINX_COLLAB_EXPRESS_DIR) it dies.  $HttpConfig has the
# deliveries reach it (a private address) one at a time and retried soon;
# $Location proxies /express/ of a test's server to it.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use POSIX ();
use Time::HiRes ();

our ($Dir, $Pid);

$ENV{TEST_NGINX_COLLAB_EXPRESS_PORT} ||= ($ENV{TEST_NGINX_PORT} || 1984) + 3;
$Dir = abs_path(dirname(__FILE__) . '/../express');
$ENV{TEST_NGINX_COLLAB_EXPRESS_DIR}
    ||= abs_path(dirname(__FILE__) . '/../..') . '/build/express';

our $HttpConfig = <<'_EOC_';
    collab_webhook_allow_private   on;
    collab_webhook_retry_schedule  1s 1s;
    collab_webhook_timeout         3s;
    collab_webhook_concurrency     1;
_EOC_

our $Location = <<'_EOC_';
    location /express/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_COLLAB_EXPRESS_PORT/;
    }
_EOC_

sub skip_reason {
    return 'node is not installed'
        if system('node --version >/dev/null 2>&1') != 0;
    die "no express in $ENV{TEST_NGINX_COLLAB_EXPRESS_DIR}: run 'make deps'\n"
        if !-f "$ENV{TEST_NGINX_COLLAB_EXPRESS_DIR}/node_modules/express"
               . "/package.json";
    return undef;
}

sub read_file {
    my $name = shift;

    open my $fh, '<', $name or return '';
    local $/;
    my $text = <$fh>;
    close $fh;

    return defined $text ? $text : '';
}

sub start {
    stop();

    my $port = $ENV{TEST_NGINX_COLLAB_EXPRESS_PORT};
    my $out = Test::Nginx::Socket::server_root() . '/logs/express.log';
    my $give_up = Time::HiRes::time() + 25;

    while (1) {
        unlink $out;

        my $pid = fork();
        die "fork() failed: $!\n" if !defined $pid;

        if ($pid == 0) {
            open STDIN, '<', '/dev/null';
            open STDOUT, '>', $out;
            open STDERR, '>&', \*STDOUT;
            $ENV{COLLAB_EXPRESS_DIR} = $ENV{TEST_NGINX_COLLAB_EXPRESS_DIR};
            exec('node', "$Dir/receiver.js", $port, 20)
                or POSIX::_exit(127);
        }

        my $text = '';
        for (1 .. 200) {
            Time::HiRes::sleep(0.05);
            $text = read_file($out);

            if ($text =~ /^listening$/m) {
                $Pid = $pid;
                return;
            }

            last if waitpid($pid, POSIX::WNOHANG()) == $pid;
        }

        if (kill 0, $pid) {
            kill 'TERM', $pid;
            waitpid($pid, 0);
            die "the Express receiver did not start in 10 s:\n$text";
        }

        if ($text =~ /EADDRINUSE/ && Time::HiRes::time() < $give_up) {
            Time::HiRes::sleep(1);
            next;
        }

        die "the Express receiver failed to start:\n$text";
    }
}

sub stop {
    return if !defined $Pid;

    kill 'TERM', $Pid;
    waitpid($Pid, 0);
    undef $Pid;
}

1;
