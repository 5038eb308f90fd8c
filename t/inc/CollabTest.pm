package CollabTest;

# What every collab test file shares: the module's http-level directives,
# the API location and the /t scenario runner (t/lib/collab.js), set as
# each block's defaults.  A block that has its own http_config or config
# keeps it.

use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use Test::Nginx::Socket ();

$ENV{TEST_NGINX_COLLAB_LIB} ||= abs_path(dirname(__FILE__) . '/../lib');

# a second port, for a server block with "reuseport" that spreads
# connections over every worker
$ENV{TEST_NGINX_COLLAB_PORT2} ||= ($ENV{TEST_NGINX_PORT} || 1984) + 1;

# a port for t/lib/dns-responder.pl, a DNS server that tests start
$ENV{TEST_NGINX_COLLAB_DNS_PORT} ||= ($ENV{TEST_NGINX_PORT} || 1984) + 2;

# a file that t/910-openapi.t names: the scenario runner then logs every
# request and answer to it (see t/lib/collab.js); empty, it logs nothing
$ENV{TEST_NGINX_COLLAB_CONTRACT_LOG} //= '';

our $HttpConfig = <<'_EOC_';
    collab_database          logs/collab.db;
    collab_admin_token_file  $TEST_NGINX_COLLAB_LIB/admin.token;
    js_path                  "$TEST_NGINX_COLLAB_LIB";
    js_import                collab from collab.js;
_EOC_

# the webhook receiver of the tests, on the second port
our $Receiver = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_COLLAB_PORT2;
        client_body_buffer_size 1m;
        location /hook/ {
            root logs;
            set $collab_received_file $realpath_root/received.jsonl;
            js_content collab.receive;
        }
    }
_EOC_

# a server of the API on the port that $port names (say,
# '$TEST_NGINX_COLLAB_DNS_PORT'), with "reuseport" that spreads connections
# over every worker; its answers tell the worker's pid in X-Worker
sub spread_server {
    my ($port) = @_;

    return <<"_EOC_";
    server {
        listen 127.0.0.1:$port reuseport;
        location /v1/ {
            add_header X-Worker \$pid always;
            collab_api;
        }
    }
_EOC_
}

our $Config = <<'_EOC_';
    client_body_buffer_size  64k;
    location /v1/ {
        collab_api;
    }
    location = /t {
        set $collab_admin_token_file $TEST_NGINX_COLLAB_LIB/admin.token;
        set $collab_files $TEST_NGINX_SERVER_ROOT/logs/files;
        set $collab_port2 $TEST_NGINX_COLLAB_PORT2;
        set $collab_port3 $TEST_NGINX_COLLAB_DNS_PORT;
        root logs;
        set $collab_received_file $realpath_root/received.jsonl;
        set $collab_contract_log "$TEST_NGINX_COLLAB_CONTRACT_LOG";
        js_content collab.steps;
    }
_EOC_

Test::Nginx::Socket::add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config", $HttpConfig);
    }

    if (!defined $block->config) {
        $block->set_value("config", $Config);
    }

    if (!defined $block->no_error_log && !defined $block->error_log) {
        $block->set_value("no_error_log", "[error]\n[alert]\n[crit]\n"
                                          . "[emerg]\n");
    }
});

1;
