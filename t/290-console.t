# The console: "location /console/ { collab_console; }" answers the files
# of console/ that the build embeds in the module, each with its content
# type, and every answer (404 and 405 too) with the console's
# Content-Security-Policy and X-Content-Type-Options: nosniff.  A name
# that is not one of the files is 404, whatever its dots and slashes;
# ETag and If-None-Match give 304; only GET and HEAD are allowed.

use lib 't/inc';
use CollabTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();

our $Csp = "default-src 'self'; script-src 'self'; style-src 'self'; "
         . "connect-src 'self'; img-src 'self' data:; "
         . "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

our $Console = <<'_EOC_';
    location /console/ {
        collab_console;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("config", $CollabTest::Config . $Console)
        if !defined $block->config;

    if (!defined $block->response_headers) {
        $block->set_value("response_headers",
                          "Content-Security-Policy: $Csp\n"
                          . "X-Content-Type-Options: nosniff\n");
    }
});

run_tests();

__DATA__

=== TEST 1: the page at the location's root
--- request
GET /console/
--- response_headers eval
"Content-Security-Policy: $::Csp
X-Content-Type-Options: nosniff
Content-Type: text/html; charset=utf-8
Cache-Control: no-cache"
--- response_body_like
^<!DOCTYPE html>.*<script src="console.js" defer></script>



=== TEST 2: index.html by name
--- request
GET /console/index.html
--- response_headers eval
"Content-Type: text/html; charset=utf-8
Content-Security-Policy: $::Csp"
--- response_body_like
<title>collab console</title>



=== TEST 3: the script
--- request
GET /console/console.js
--- response_headers eval
"Content-Type: text/javascript; charset=utf-8
X-Content-Type-Options: nosniff
Content-Security-Policy: $::Csp"
--- response_body_like
^/\*



=== TEST 4: the style sheet
--- request
GET /console/console.css
--- response_headers eval
"Content-Type: text/css; charset=utf-8
Content-Security-Policy: $::Csp"
--- response_body_like
^body \{.*color: #1b1b1b;



=== TEST 5: HEAD: the headers only
--- request
HEAD /console/console.css
--- response_headers eval
"Content-Type: text/css; charset=utf-8
Content-Security-Policy: $::Csp"
--- response_body



=== TEST 6: an unknown file is 404, with the headers
--- request
GET /console/nothing.js
--- error_code: 404



=== TEST 7: no path traversal: above the root is refused by nginx
--- request
GET /console/../../conf/nginx.conf
--- response_headers
--- error_code: 400
--- response_body_unlike
worker_processes



=== TEST 8: no path traversal: encoded dots, backslashes
--- request
GET /console/%2e%2e%5c%2e%2e%5cconf%5cnginx.conf
--- error_code: 404
--- response_body_unlike
worker_processes



=== TEST 8a: nginx resolves encoded dots and slashes first: x/../index.html
--- request
GET /console/x%2f..%2findex.html
--- error_code: 200
--- response_body_like
<title>collab console</title>



=== TEST 9: no sub-folders
--- request
GET /console/x/index.html
--- error_code: 404



=== TEST 10: POST is not allowed
--- request
POST /console/
x=1
--- error_code: 405
--- response_headers_like
Allow: GET, HEAD



=== TEST 11: DELETE is not allowed
--- request
DELETE /console/console.js
--- error_code: 405



=== TEST 12: the ETag, and 304 for If-None-Match
--- request
GET /console/console.js
--- response_headers_like
ETag: "[0-9a-f]{20}"
--- response_body_like
'use strict';



=== TEST 13: a matching If-None-Match is 304 without a body
--- raw_request eval
my $etag = `sha256sum console/console.js | cut -c1-20`;
CORE::chomp($etag);
"GET /console/console.js HTTP/1.1\r
Host: localhost\r
If-None-Match: \"$etag\"\r
Connection: close\r
\r
"
--- error_code: 304
--- response_body



=== TEST 14: another If-None-Match is the file
--- request
GET /console/console.js
--- more_headers
If-None-Match: "0000"
--- error_code: 200
--- response_body_like
'use strict';



=== TEST 15: a regular expression location: the name is the URI's last part
--- config eval
$CollabTest::Config . <<'_EOC_';
    location ~ ^/ui/ {
        collab_console;
    }
_EOC_
--- request
GET /ui/console.css
--- response_headers eval
"Content-Type: text/css; charset=utf-8
Content-Security-Policy: $::Csp"
--- response_body_like
^body \{.*color: #1b1b1b;
