# docs/openapi.yaml: linted with Redocly's CLI, compared with the module's
# route table, then checked against the module's real answers.
#
# t/openapi/routes.js reads the route table from the C sources (wherever it
# is: the entries are found by their form) and fails for a route, or a
# method of one, that has no path or operation in the description, and for
# a path or operation that no route has.
#
# Some scenario files of this folder run again with
# TEST_NGINX_COLLAB_CONTRACT_LOG set, which makes t/lib/collab.js and
# t/inc/CollabPresence.pm log every request and answer, event streams
# included; t/openapi/contract.js then matches each answer to its
# operation and validates it (ajv, JSON Schema 2020-12 with formats), an
# event stream message by message.  An operation that no answer exercised
# fails too.
#
# Needs node and the npm packages of t/openapi/package-lock.json in
# TEST_NGINX_COLLAB_OPENAPI_DIR (default build/openapi, where util/deps.sh
# runs "npm ci"); without them the file is skipped.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp ();
use Test::More;

my $Top = abs_path(dirname(__FILE__) . '/..');
my $Modules = ($ENV{TEST_NGINX_COLLAB_OPENAPI_DIR} || "$Top/build/openapi")
              . '/node_modules';

# the scenario files whose answers are checked
my @Scenarios = qw(t/010-accounts.t t/020-rooms.t t/030-users.t
                   t/040-events.t t/050-http.t t/080-stores.t t/090-files.t
                   t/100-webhooks-api.t t/110-webhooks-delivery.t
                   t/170-webhooks-answers.t t/200-presence-tokens.t
                   t/210-presence.t t/250-workflows-api.t
                   t/255-workflows-seed.t t/260-workflows-limits.t
                   t/270-workflows-tail.t t/900-edge-verifier.t);

if (system('node --version >/dev/null 2>&1') != 0) {
    plan skip_all => 'node is not installed';
}

for my $m ('@redocly/cli', 'ajv', 'ajv-formats', 'yaml') {
    if (!-f "$Modules/$m/package.json") {
        plan skip_all => "$Modules/$m is missing: 'make deps' installs it";
    }
}

chdir $Top or die "chdir $Top: $!\n";

# the lint, with no warning either
{
    local $ENV{REDOCLY_TELEMETRY} = 'off';
    local $ENV{REDOCLY_SUPPRESS_UPDATE_NOTICE} = 'true';

    my $lint = "node $Modules/\@redocly/cli/bin/cli.js lint"
               . " --config t/openapi/redocly.yaml docs/openapi.yaml";
    my $out = `$lint 2>&1`;
    my $status = $?;

    ok($status == 0 && $out !~ /You have \d+ warnings?/,
       'redocly lint docs/openapi.yaml: valid, no warning')
        or diag($out);
}

# the lines of a check script: "ok ...", "not ok ..." with "#   " lines
# of why, "# " notes; its exit status
sub report {
    my ($prefix, $cmd) = @_;

    local $ENV{NODE_PATH} = $Modules;

    my @lines = `$cmd 2>&1`;
    my $status = $?;
    my $fails = 0;

    while (defined(my $line = shift @lines)) {
        chomp $line;

        if ($line =~ /^ok (.*)/) {
            pass("$prefix$1");

        } elsif ($line =~ /^not ok (.*)/) {
            my $what = $1;
            my @why;
            push @why, shift @lines while @lines && $lines[0] =~ /^#   /;
            fail("$prefix$what");
            diag(join '', @why) if @why;
            $fails++;

        } elsif ($line =~ /^# /) {
            note($line);

        } else {
            diag($line);
        }
    }

    return ($status, $fails);
}

# the route table and the paths of the description, both ways
{
    my ($status, $fails) = report('',
        'node t/openapi/routes.js docs/openapi.yaml ngx_collab_module');

    ok($status == 0 || $fails, 't/openapi/routes.js ran to the end');
}

my $dir = File::Temp::tempdir(CLEANUP => 1);
my $log = "$dir/answers.jsonl";

# the scenario files, with every answer logged
{
    local $ENV{TEST_NGINX_COLLAB_CONTRACT_LOG} = $log;

    my @inc = system('perl -MTest::Nginx::Socket -e1 2>/dev/null') == 0
              ? () : ('-I', 't/lib');
    my $out = `prove @inc @Scenarios 2>&1`;

    is($?, 0, 'the scenario files pass with their answers logged')
        or diag($out);
}

# every answer against its operation
if (ok(-s $log, 'answers were logged')) {
    my ($status, $fails) = report('answers of ',
        "node t/openapi/contract.js docs/openapi.yaml $log");

    ok($status == 0 || $fails, 't/openapi/contract.js ran to the end');
}

done_testing();
