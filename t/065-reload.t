# Reloads: a new configuration that fails after its zones are set up (a
# listen socket that cannot be bound) leaves the running configuration and
# its registry zone in place; a worker that the master forks afterwards
# works on that zone.  (A registry pointer left to the failed cycle's
# freed memory shows here as a use after free under `make test-asan`.)

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

workers(2);
master_on();
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", $CollabTest::HttpConfig . <<'_EOC_');
    server {
        listen 127.0.0.1:$TEST_NGINX_COLLAB_PORT2 reuseport;
        location /v1/ {
            add_header X-Worker $pid always;
            collab_api;
        }
    }
_EOC_
});

run_tests();

__DATA__

=== TEST 1: a reload that fails to bind, then kill -9 of a worker: the new worker uses the running zone
--- init
my $root = Test::Nginx::Socket::server_root();
my $busy = $ENV{TEST_NGINX_COLLAB_DNS_PORT};
# After the steps below have created a key: hold a port, give the
# configuration a listen on it, reload (the bind fails, the old cycle goes
# on), put the configuration back, then kill -9 the worker that is not
# running the steps.
my $script = <<"_SH_";
sleep 1
perl -MIO::Socket::INET -e '
    my \$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$busy",
                                   Listen => 1, ReuseAddr => 1) or exit 1;
    sleep 9;' &
holder=\$!
sleep 0.5
cp $root/conf/nginx.conf $root/conf/nginx.conf.good
sed -i '0,/listen/s//listen 127.0.0.1:$busy; listen/' $root/conf/nginx.conf
master=\$(cat $root/logs/nginx.pid)
kill -HUP \$master
sleep 4
cp $root/conf/nginx.conf.good $root/conf/nginx.conf
steps=\$(cat $root/logs/received.jsonl.pid)
for w in \$(ps -o pid= --ppid \$master); do
    [ "\$w" != "\$steps" ] && kill -9 \$w
done
kill \$holder
_SH_
open(my $fh, '>', "$root/logs/reload.sh") or die "reload.sh: $!\n";
print $fh $script;
close($fh);
system("bash $root/logs/reload.sh >/dev/null 2>&1 &");
--- request
POST /t
pidfile
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/keys {}
as {tok1}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
sleep 8000
port second
repeat 40 GET /v1/accounts/{acc1}/rooms/{room1}
repeat 20 POST /v1/accounts/{acc1}/rooms/{room1}/users {}
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/keys 201 {"id":"{key1}","name":null,"token":"{tok1}","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
GET /v1/accounts/{acc1}/rooms/{room1} x40 200:40 (several workers)
POST /v1/accounts/{acc1}/rooms/{room1}/users x20 201:20 (several workers)
--- error_log eval
[qr/bind\(\) to 127\.0\.0\.1:\d+ failed/,
 qr/exited on signal 9/]
--- no_error_log
[crit]
signal 11
signal 6
--- timeout: 20
