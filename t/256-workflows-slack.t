# The product document's "Notify Slack on Session Start", its code
# unchanged: it posts to https://hooks.slack.com/services/YOUR/WEBHOOK/URL
# as written.  The test's DNS server (t/lib/dns-responder.pl, nginx's
# resolver, which the runner is given) sends hooks.slack.com to 127.0.0.1,
# where a server of this nginx listens on port 443 with a certificate for
# hooks.slack.com from the test CA (t/lib/tls), the one the runner trusts
# here; collab_workflow_allow_address lets fetch() reach 127.0.0.1.
# Port 443 needs root: without it the file is skipped.

use lib 't/inc';
use CollabTest;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Test::Nginx::Socket;

my $probe = IO::Socket::INET->new(LocalAddr => '127.0.0.1:443',
                                  Proto => 'tcp', Listen => 1,
                                  ReuseAddr => 1);

if (!$probe) {
    plan(skip_all => "port 443 cannot be bound here ($!)");
}

close $probe;

if (system('openssl version > /dev/null 2>&1') != 0) {
    plan(skip_all => 'no openssl to make the certificate');
}

# a certificate for hooks.slack.com, signed by the test CA
my $dir = tempdir(CLEANUP => 1);
my $tls = "$ENV{TEST_NGINX_COLLAB_LIB}/tls";

open my $ext, '>', "$dir/slack.ext" or die "$dir/slack.ext: $!\n";
print $ext "subjectAltName=DNS:hooks.slack.com\n";
close $ext;

system("openssl req -new -newkey rsa:2048 -nodes -subj /CN=hooks.slack.com"
       . " -keyout $dir/slack.key -out $dir/slack.csr > /dev/null 2>&1") == 0
    && system("openssl x509 -req -in $dir/slack.csr -CA $tls/ca.crt"
              . " -CAkey $tls/ca.key -set_serial 4244 -days 2"
              . " -extfile $dir/slack.ext -out $dir/slack.crt"
              . " > /dev/null 2>&1") == 0
    or die "openssl failed\n";

$ENV{TEST_NGINX_COLLAB_SLACK_DIR} = $dir;

plan tests => 6;

no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", $CollabTest::HttpConfig . <<'_EOC_');
    resolver 127.0.0.1:$TEST_NGINX_COLLAB_DNS_PORT valid=1s ipv6=off;
    collab_workflow_trusted_certificate $TEST_NGINX_COLLAB_LIB/tls/ca.crt;
    collab_workflow_allow_address 127.0.0.1;
    collab_presence_grace 0;

    server {
        listen 127.0.0.1:443 ssl;
        server_name hooks.slack.com;
        ssl_certificate      $TEST_NGINX_COLLAB_SLACK_DIR/slack.crt;
        ssl_certificate_key  $TEST_NGINX_COLLAB_SLACK_DIR/slack.key;
        location /services/ {
            root logs;
            set $collab_received_file $realpath_root/received.jsonl;
            js_content collab.receive;
        }
    }
_EOC_

    $block->set_value("timeout", 30);
});

run_tests();

__DATA__

=== TEST 1: a session starts in a room (a test event, then a user online through a server heartbeat): Slack gets its message over verified TLS, found through DNS
--- init
system("perl $ENV{TEST_NGINX_COLLAB_LIB}/dns-responder.pl"
       . " $ENV{TEST_NGINX_COLLAB_DNS_PORT} 127.0.0.1 8 &");
select(undef, undef, undef, 0.5);
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"Design review"}
POST /v1/accounts/{acc1}/workflows {"name":"Notify Slack on Session Start","events":["session.started"],"code":"export default async function(event, { room }) {\n  if (event.event !== 'session.started') return;\n\n  const roomData = await room.get();\n\n  await fetch('https://hooks.slack.com/services/YOUR/WEBHOOK/URL', {\n    method: 'POST',\n    headers: { 'Content-Type': 'application/json' },\n    body: JSON.stringify({\n      text: `Collaboration session started in \"${roomData.name}\"`,\n    }),\n  });\n\n  return { notified: true };\n}"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test {"event":{"event":"session.started","data":{"roomId":"{room1}","sessionId":"ses_1","userId":"user-001"}}}
received
POST /v1/accounts/{acc1}/rooms/{room1}/users {"userId":"user-001"}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/user-001 {"ttl":60}
settled 2 GET /v1/accounts/{acc1}/workflows/{wf1}/executions
received
DELETE /v1/accounts/{acc1}/rooms/{room1}/presence/user-001
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"Design review","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows 201 {"id":"{wf1}","name":"Notify Slack on Session Start","events":["session.started"],"roomId":null,"language":"javascript","enabled":true,"code":"export default async function(event, { room }) {\n  if (event.event !== 'session.started') return;\n\n  const roomData = await room.get();\n\n  await fetch('https://hooks.slack.com/services/YOUR/WEBHOOK/URL', {\n    method: 'POST',\n    headers: { 'Content-Type': 'application/json' },\n    body: JSON.stringify({\n      text: `Collaboration session started in \"${roomData.name}\"`,\n    }),\n  });\n\n  return { notified: true };\n}","createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/workflows/{wf1}/test 200 {"id":"{exe1}","workflowId":"{wf1}","event":"session.started","eventId":"{evt1}","status":"success","attempts":1,"durationMs":<ms>,"result":{"notified":true},"error":null,"logs":[],"fetches":[{"url":"https://hooks.slack.com/services/YOUR/WEBHOOK/URL","status":200,"ms":<ms>}],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>","payload":{"event":"session.started","data":{"roomId":"{room1}","sessionId":"ses_1","userId":"user-001"},"timestamp":"<ts>"}}
<- /services/YOUR/WEBHOOK/URL {"text":"Collaboration session started in \"Design review\""} id: signed:none standard:bad stale-timestamp ua:collab-workflows/0.1.0
POST /v1/accounts/{acc1}/rooms/{room1}/users 201 {"userId":"user-001","roomId":"{room1}","name":null,"email":null,"metadata":{},"online":false,"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/presence/user-001 200 {"userId":"user-001","since":"<ts>","connections":0,"heartbeatUntil":"<ts>"}
GET /v1/accounts/{acc1}/workflows/{wf1}/executions 200 {"data":[{"id":"{exe2}","workflowId":"{wf1}","event":"session.started","eventId":"{evt2}","status":"success","attempts":1,"durationMs":<ms>,"result":{"notified":true},"error":null,"logs":[],"fetches":[{"url":"https://hooks.slack.com/services/YOUR/WEBHOOK/URL","status":200,"ms":<ms>}],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"},{"id":"{exe1}","workflowId":"{wf1}","event":"session.started","eventId":"{evt1}","status":"success","attempts":1,"durationMs":<ms>,"result":{"notified":true},"error":null,"logs":[],"fetches":[{"url":"https://hooks.slack.com/services/YOUR/WEBHOOK/URL","status":200,"ms":<ms>}],"startedAt":"<ts>","finishedAt":"<ts>","createdAt":"<ts>"}],"nextCursor":null}
<- /services/YOUR/WEBHOOK/URL {"text":"Collaboration session started in \"Design review\""} id: signed:none standard:bad stale-timestamp ua:collab-workflows/0.1.0
DELETE /v1/accounts/{acc1}/rooms/{room1}/presence/user-001 204

