# Directives: wrong values stop nginx with a message naming the directive
# and the value; the admin token file is created when missing.

use lib 't/inc';
use CollabTest;
use File::Temp ();
use Test::Nginx::Socket 'no_plan';

# a folder that no process may write, root included (chattr +i), when the
# filesystem and our privileges allow it
our $Frozen = File::Temp::tempdir(CLEANUP => 1) . "/frozen";
our $CanFreeze = mkdir($Frozen)
                 && system("chattr +i '$Frozen' 2>/dev/null") == 0;
$ENV{TEST_NGINX_COLLAB_FROZEN} = $Frozen;

END { system("chattr -i '$Frozen' 2>/dev/null") if $CanFreeze }

no_shuffle();
run_tests();

__DATA__

=== TEST 1: collab_zone with a size that is not a size
--- http_config
    collab_database logs/collab.db;
    collab_zone collab lots;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_zone: invalid size "lots"

=== TEST 2: collab_zone that is too small
--- http_config
    collab_database logs/collab.db;
    collab_zone collab 8k;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_zone: zone "collab" of size "8k" is too small

=== TEST 3: collab_api without collab_database
--- http_config
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
"collab_api" needs "collab_database" in the http block

=== TEST 4: collab_database that names a folder
--- http_config
    collab_database logs/;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_database: "logs/" is not a file path

=== TEST 5: collab_database given twice
--- http_config
    collab_database logs/a.db;
    collab_database logs/b.db;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
"collab_database" directive is duplicate

=== TEST 6: collab_api takes no argument
--- http_config
    collab_database logs/collab.db;
--- config
    location /v1/ { collab_api on; }
--- must_die
--- error_log
invalid number of arguments in "collab_api" directive

=== TEST 7: an admin token file with too short a token
--- http_config
    collab_database logs/collab.db;
    collab_admin_token_file html/short.token;
--- config
    location /v1/ { collab_api; }
--- user_files
>>> short.token
abc
--- must_die
--- error_log
must hold one token of 16 to 500 characters

=== TEST 8: a missing admin token file is created with a fresh token that works
--- http_config
    collab_database          logs/collab.db;
    collab_admin_token_file  logs/fresh.token;
    js_path                  "$TEST_NGINX_COLLAB_LIB";
    js_import                collab from collab.js;
--- config
    location /v1/ {
        collab_api;
    }
    location = /t {
        root logs;
        set $collab_admin_token_file $realpath_root/fresh.token;
        js_content collab.steps;
    }
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
as none
POST /v1/accounts {"name":"Acme"}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts 401 {"error":{"code":"unauthorized","message":"an Authorization: Bearer token is required"}}
--- error_log
admin token written to

=== TEST 9: the created token file is private to its owner
--- http_config
    collab_database          logs/collab.db;
    collab_admin_token_file  logs/fresh.token;
--- config
    location /v1/ {
        collab_api;
    }
    location = /mode {
        return 200 "ok\n";
    }
--- request
GET /mode
--- response_body
ok
--- init
my $file = Test::Nginx::Socket::server_root() . "/logs/fresh.token";
my $mode = (stat $file)[2] & 07777;
die sprintf("mode of %s is %o, not 600\n", $file, $mode) if $mode != 0600;
open my $fh, '<', $file or die "cannot read $file: $!\n";
my $token = <$fh>;
die "unexpected token \"$token\"\n" if $token !~ /^cadm_[0-9A-Za-z]{22}\n\z/;

=== TEST 10: collab_store_max_value beyond 16m
--- http_config
    collab_database logs/collab.db;
    collab_store_max_value 17m;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_store_max_value: invalid size "17m", must be 1 to 16m

=== TEST 11: collab_store_max_value that is not a size
--- http_config
    collab_database logs/collab.db;
    collab_store_max_value big;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_store_max_value: invalid size "big", must be 1 to 16m

=== TEST 12: collab_files_max_per_room that is not a positive number
--- http_config
    collab_database logs/collab.db;
    collab_files_max_per_room 0;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_files_max_per_room: invalid number "0", must be 1 or more

=== TEST 13: collab_files_quota that is not a size
--- http_config
    collab_database logs/collab.db;
    collab_files_quota plenty;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_files_quota: invalid size "plenty"

=== TEST 14: collab_files_path that is empty
--- http_config
    collab_database logs/collab.db;
    collab_files_path "";
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_files_path: "" is not a folder path

=== TEST 15: collab_files_quota given twice
--- http_config
    collab_database logs/collab.db;
    collab_files_quota 1g;
    collab_files_quota 2g;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
"collab_files_quota" directive is duplicate

=== TEST 16: collab_files_path in a folder that does not exist
--- http_config
    collab_database logs/collab.db;
    collab_files_path logs/no/such/folder;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab: cannot create "

=== TEST 17: collab_webhook_retry_schedule with a delay that is not a time
--- http_config
    collab_database logs/collab.db;
    collab_webhook_retry_schedule 5s soon;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_webhook_retry_schedule: invalid delay "soon"

=== TEST 18: collab_webhook_concurrency of 0
--- http_config
    collab_database logs/collab.db;
    collab_webhook_concurrency 0;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
collab_webhook_concurrency must be at least 1

=== TEST 19: collab_webhook_timeout that is not a time
--- http_config
    collab_database logs/collab.db;
    collab_webhook_timeout fast;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
"collab_webhook_timeout" directive invalid value

=== TEST 20: a CA file for webhooks that does not exist
--- http_config
    collab_database logs/collab.db;
    collab_webhook_ssl_trusted_certificate /nonexistent/ca.pem;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log
/nonexistent/ca.pem

=== TEST 21: collab_files_path that is a file, not a folder, stops the start
--- http_config
    collab_database logs/collab.db;
    collab_files_path html/notafolder;
--- config
    location /v1/ { collab_api; }
--- user_files
>>> notafolder
not a folder
--- must_die
--- error_log eval
qr{\[emerg\] .*collab: the worker processes cannot write to "[^"]*/html/notafolder", the files folder \(20: Not a directory\)}

=== TEST 22: a files folder that nobody may write, root included, stops the start
--- skip_eval: 2: !$::CanFreeze
--- http_config
    collab_database logs/collab.db;
    collab_files_path $TEST_NGINX_COLLAB_FROZEN;
--- config
    location /v1/ { collab_api; }
--- must_die
--- error_log eval
qr{\[emerg\] .*collab: the worker processes cannot write to "\Q$::Frozen\E", the files folder \(1: Operation not permitted\)}
