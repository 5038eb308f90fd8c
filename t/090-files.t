# Files of a room: upload (raw body, kept Content-Type), list by name with
# ?prefix= and pages, download served by nginx (ETag, Range, HEAD, 304),
# delete; names checked against traversal in every spelling; limits per
# room and per account; a room's deletion removes its files; rows and
# bytes are made to agree at start after a crash between the two writes.

use lib 't/inc';
use CollabTest;
use Digest::SHA ();
use File::Temp ();
use Test::Nginx::Socket 'no_plan';

no_shuffle();

# an account and a room made with SQL, for the blocks that send raw bytes
our $Acc = 'acc_FilesFilesFilesFiles00';
our $Room = '0f0f0f0f-1111-4222-8333-444455556666';
our $Path = "/v1/accounts/$Acc/rooms/$Room/files";
our $Admin = "Authorization: Bearer collab-test-admin-token-0001";

sub make_room {
    my $db = Test::Nginx::Socket::server_root() . "/logs/collab.db";

    system("sqlite3", $db, ".timeout 5000",
           "INSERT INTO accounts (id, name, created_at)"
           . " VALUES ('$Acc', 'Files', 0)",
           "INSERT INTO rooms (id, account_id, name, metadata, created_at,"
           . " updated_at) VALUES ('$Room', '$Acc', 'r', '{}', 0, 0)") == 0
        or die "sqlite3 failed\n";
}

# every byte value, and 10 MiB that do not repeat
our $Binary = join('', map { chr } 0 .. 255) x 4;

our $Big = do {
    my $h = 'collab';
    join '', map { $h = Digest::SHA::sha256($h) } 1 .. 10 * 1024 * 1024 / 32;
};

# a database and files folder that outlive one block, for the crash test
our $Kept = File::Temp::tempdir(CLEANUP => 1);
$ENV{TEST_NGINX_COLLAB_KEPT} = $Kept;

our $KeptHttpConfig = $CollabTest::HttpConfig
                      =~ s{logs/collab.db}{\$TEST_NGINX_COLLAB_KEPT/collab.db}r;
our $KeptConfig = $CollabTest::Config
                  =~ s{\$TEST_NGINX_SERVER_ROOT/logs/files}
                      {\$TEST_NGINX_COLLAB_KEPT/files}r;

sub sql {
    my ($query) = @_;
    my $out = `sqlite3 -cmd '.timeout 5000' '$Kept/collab.db' "$query"`;
    die "sqlite3 failed\n" if $?;
    chomp $out;
    return $out;
}

# the client body folder of the block that buffers bodies in /dev/shm
END { rmdir "/dev/shm/collab-test-$$" }

run_tests();

__DATA__

=== TEST 1: a file is uploaded, read, replaced and deleted; its bytes follow
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
header Content-Type: text/plain; charset=utf-8
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/notes/today.txt Hello, files!
GET /v1/accounts/{acc1}/rooms/{room1}/files/notes/today.txt
HEAD /v1/accounts/{acc1}/rooms/{room1}/files/notes/today.txt
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/empty
header Content-Type: text/markdown
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/notes/today.txt # Replaced
GET /v1/accounts/{acc1}/rooms/{room1}/files
disk
DELETE /v1/accounts/{acc1}/rooms/{room1}/files/notes/today.txt
GET /v1/accounts/{acc1}/rooms/{room1}/files/notes/today.txt
DELETE /v1/accounts/{acc1}/rooms/{room1}/files/notes/today.txt
GET /v1/accounts/{acc1}/rooms/{room1}/files/empty
disk
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/files/notes/today.txt 201 {"name":"notes/today.txt","size":13,"contentType":"text/plain; charset=utf-8","etag":"\"{blob1}\"","uploadedAt":"<ts>"}
GET /v1/accounts/{acc1}/rooms/{room1}/files/notes/today.txt 200 Hello, files!
HEAD /v1/accounts/{acc1}/rooms/{room1}/files/notes/today.txt 200
PUT /v1/accounts/{acc1}/rooms/{room1}/files/empty 201 {"name":"empty","size":0,"contentType":"application/octet-stream","etag":"\"{blob2}\"","uploadedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/files/notes/today.txt 200 {"name":"notes/today.txt","size":10,"contentType":"text/markdown","etag":"\"{blob3}\"","uploadedAt":"<ts>"}
GET /v1/accounts/{acc1}/rooms/{room1}/files 200 {"data":[{"name":"empty","size":0,"contentType":"application/octet-stream","etag":"\"{blob2}\"","uploadedAt":"<ts>"},{"name":"notes/today.txt","size":10,"contentType":"text/markdown","etag":"\"{blob3}\"","uploadedAt":"<ts>"}],"nextCursor":null}
disk {room1}: {blob2} {blob3}
DELETE /v1/accounts/{acc1}/rooms/{room1}/files/notes/today.txt 204
GET /v1/accounts/{acc1}/rooms/{room1}/files/notes/today.txt 404 {"error":{"code":"not_found","message":"file not found"}}
DELETE /v1/accounts/{acc1}/rooms/{room1}/files/notes/today.txt 404 {"error":{"code":"not_found","message":"file not found"}}
GET /v1/accounts/{acc1}/rooms/{room1}/files/empty 200
disk {room1}: {blob2}

=== TEST 2: files list by name, under a prefix, a page at a time
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/z z
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/b.txt b
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/a/2.txt a2
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/%C3%A9t%C3%A9/1 e
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/a.txt a
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/ab/x ab
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/a%2F1.txt a1
count GET /v1/accounts/{acc1}/rooms/{room1}/files
GET /v1/accounts/{acc1}/rooms/{room1}/files?prefix=a/
GET /v1/accounts/{acc1}/rooms/{room1}/files?prefix=a&limit=3
GET /v1/accounts/{acc1}/rooms/{room1}/files?prefix=a&limit=3&cursor={cursor1}
GET /v1/accounts/{acc1}/rooms/{room1}/files?prefix=%C3%A9
GET /v1/accounts/{acc1}/rooms/{room1}/files?prefix=nothing
GET /v1/accounts/{acc1}/rooms/{room1}/files?limit=2&cursor={cursor1}
GET /v1/accounts/{acc1}/rooms/{room1}/files/a/1.txt
--- response_body_like chomp
^POST [^\n]*
POST [^\n]*
(PUT [^ ]+ 201 [^\n]*\n){7}GET /v1/accounts/\{acc1\}/rooms/\{room1\}/files 200 7 items, last page
GET [^ ]+ 200 \{"data":\[\{"name":"a/1.txt",[^\n]*\},\{"name":"a/2.txt",[^\n]*\}\],"nextCursor":null\}
GET [^ ]+ 200 \{"data":\[\{"name":"a.txt",[^\n]*\},\{"name":"a/1.txt",[^\n]*\},\{"name":"a/2.txt",[^\n]*\}\],"nextCursor":"\{cursor1\}"\}
GET [^ ]+ 200 \{"data":\[\{"name":"ab/x","size":2,[^\n]*\}\],"nextCursor":null\}
GET [^ ]+ 200 \{"data":\[\{"name":"été/1","size":1,[^\n]*\}\],"nextCursor":null\}
GET [^ ]+ 200 \{"data":\[\],"nextCursor":null\}
GET [^ ]+ 200 \{"data":\[\{"name":"ab/x",[^\n]*\},\{"name":"b.txt",[^\n]*\}\],"nextCursor":"\{cursor2\}"\}
GET [^ ]+ 200 a1$

=== TEST 3: bytes of every value come back identical, with the uploaded type
--- init
main::make_room();
--- request eval
["PUT $::Path/bin/all-bytes.dat\n$::Binary", "GET $::Path/bin/all-bytes.dat",
 "HEAD $::Path/bin/all-bytes.dat"]
--- more_headers eval
["$::Admin\nContent-Type: application/x-collab-test\nContent-Length: 1024",
 $::Admin, $::Admin]
--- error_code eval
[201, 200, 200]
--- response_headers_like eval
["Content-Type: application/json",
 "Content-Type: application/x-collab-test\nContent-Length: 1024\nAccept-Ranges: bytes\nETag: \"blob_[0-9A-Za-z]{22}\"\nLast-Modified: \\w{3}, \\d\\d \\w{3} \\d{4} [\\d:]{8} GMT",
 "Content-Type: application/x-collab-test\nContent-Length: 1024\nETag: \"blob_[0-9A-Za-z]{22}\""]
--- response_body_like eval
[qr/^\{"name":"bin\/all-bytes.dat","size":1024,"contentType":"application\/x-collab-test","etag":"\\"blob_[0-9A-Za-z]{22}\\"","uploadedAt":"[^"]+"\}\n\z/,
 "^\Q$::Binary\E\\z", "^\\z"]

=== TEST 4: 10 MiB go in and come back byte for byte
--- init
main::make_room();
--- request eval
["PUT $::Path/big.bin\n$::Big", "GET $::Path/big.bin"]
--- more_headers eval
["$::Admin\nContent-Length: " . length($::Big), $::Admin]
--- error_code eval
[201, 200]
--- response_body_filters eval
[[], ["sha1_hex"]]
--- response_body_like eval
[qr/^\{"name":"big.bin","size":10485760,"contentType":"application\/octet-stream",/,
 "^" . Digest::SHA::sha1_hex($::Big) . "\$"]
--- timeout: 20

=== TEST 5: a zero-byte upload is a zero-byte file
--- init
main::make_room();
--- request eval
["PUT $::Path/zero\n", "GET $::Path/zero"]
--- more_headers eval
["$::Admin\nContent-Length: 0", $::Admin]
--- error_code eval
[201, 200]
--- response_headers eval
["", "Content-Length: 0\nContent-Type: application/octet-stream"]
--- response_body_like eval
[qr/^\{"name":"zero","size":0,/, "^\\z"]

=== TEST 6: ranges are served as nginx serves a static file
--- init
main::make_room();
--- request eval
["PUT $::Path/digits\n0123456789", "GET $::Path/digits", "GET $::Path/digits",
 "GET $::Path/digits", "GET $::Path/digits"]
--- more_headers eval
["$::Admin\nContent-Type: text/plain", "$::Admin\nRange: bytes=2-4",
 "$::Admin\nRange: bytes=-3", "$::Admin\nRange: bytes=20-",
 "$::Admin\nRange: bytes=0-0,8-9"]
--- error_code eval
[201, 206, 206, 416, 206]
--- response_headers eval
["", "Content-Range: bytes 2-4/10\nContent-Length: 3",
 "Content-Range: bytes 7-9/10", "Content-Range: bytes */10\nContent-Type: application/json",
 ""]
--- response_body_like eval
[qr/"size":10,/, "^234\\z", "^789\\z",
 qr/^\{"error":\{"code":"invalid_request","message":"the requested range is not satisfiable"\}\}\n\z/,
 qr/Content-Range: bytes 0-0\/10\r\n\r\n0\r\n.*Content-Range: bytes 8-9\/10\r\n\r\n89\r\n/s]

=== TEST 7: an ETag answers If-None-Match with 304 and If-Range with a range
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/f one
header If-None-Match: "{blob1}"
GET /v1/accounts/{acc1}/rooms/{room1}/files/f
header If-None-Match: W/"{blob1}"
GET /v1/accounts/{acc1}/rooms/{room1}/files/f
header If-None-Match: "blob_0000000000000000000000"
GET /v1/accounts/{acc1}/rooms/{room1}/files/f
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/f two
header If-None-Match: "{blob1}"
GET /v1/accounts/{acc1}/rooms/{room1}/files/f
header Range: bytes=0-0
header If-Range: "{blob2}"
GET /v1/accounts/{acc1}/rooms/{room1}/files/f
header Range: bytes=0-0
header If-Range: "{blob1}"
GET /v1/accounts/{acc1}/rooms/{room1}/files/f
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/files/f 201 {"name":"f","size":3,"contentType":"application/octet-stream","etag":"\"{blob1}\"","uploadedAt":"<ts>"}
GET /v1/accounts/{acc1}/rooms/{room1}/files/f 304
GET /v1/accounts/{acc1}/rooms/{room1}/files/f 304
GET /v1/accounts/{acc1}/rooms/{room1}/files/f 200 one
PUT /v1/accounts/{acc1}/rooms/{room1}/files/f 200 {"name":"f","size":3,"contentType":"application/octet-stream","etag":"\"{blob2}\"","uploadedAt":"<ts>"}
GET /v1/accounts/{acc1}/rooms/{room1}/files/f 200 two
GET /v1/accounts/{acc1}/rooms/{room1}/files/f 206 t
GET /v1/accounts/{acc1}/rooms/{room1}/files/f 200 two

=== TEST 8: another account's files are refused, and its rooms are not found
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/keys {}
POST /v1/accounts {"name":"Other"}
POST /v1/accounts/{acc2}/rooms {"name":"theirs"}
raw PUT /v1/accounts/{acc2}/rooms/{room1}/files/secret.txt secret
as {tok1}
GET /v1/accounts/{acc2}/rooms/{room1}/files/secret.txt
raw PUT /v1/accounts/{acc2}/rooms/{room1}/files/secret.txt mine
DELETE /v1/accounts/{acc2}/rooms/{room1}/files/secret.txt
GET /v1/accounts/{acc2}/rooms/{room1}/files
GET /v1/accounts/{acc1}/rooms/{room1}/files/secret.txt
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/secret.txt mine
DELETE /v1/accounts/{acc1}/rooms/{room1}/files/secret.txt
GET /v1/accounts/{acc1}/rooms/{room1}/files
as admin
GET /v1/accounts/{acc2}/rooms/{room1}/files/secret.txt
disk
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/keys 201 {"id":"{key1}","name":null,"token":"{tok1}","createdAt":"<ts>"}
POST /v1/accounts 201 {"id":"{acc2}","name":"Other","createdAt":"<ts>"}
POST /v1/accounts/{acc2}/rooms 201 {"id":"{room1}","name":"theirs","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc2}/rooms/{room1}/files/secret.txt 201 {"name":"secret.txt","size":6,"contentType":"application/octet-stream","etag":"\"{blob1}\"","uploadedAt":"<ts>"}
GET /v1/accounts/{acc2}/rooms/{room1}/files/secret.txt 403 {"error":{"code":"forbidden","message":"this key belongs to another account"}}
PUT /v1/accounts/{acc2}/rooms/{room1}/files/secret.txt 403 {"error":{"code":"forbidden","message":"this key belongs to another account"}}
DELETE /v1/accounts/{acc2}/rooms/{room1}/files/secret.txt 403 {"error":{"code":"forbidden","message":"this key belongs to another account"}}
GET /v1/accounts/{acc2}/rooms/{room1}/files 403 {"error":{"code":"forbidden","message":"this key belongs to another account"}}
GET /v1/accounts/{acc1}/rooms/{room1}/files/secret.txt 404 {"error":{"code":"not_found","message":"room not found"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/files/secret.txt 404 {"error":{"code":"not_found","message":"room not found"}}
DELETE /v1/accounts/{acc1}/rooms/{room1}/files/secret.txt 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc1}/rooms/{room1}/files 404 {"error":{"code":"not_found","message":"room not found"}}
GET /v1/accounts/{acc2}/rooms/{room1}/files/secret.txt 200 secret
disk {room1}: {blob1}

=== TEST 9: a traversal in any spelling is 400 with the reason, and nothing is written
--- request eval
"POST /t
as admin
POST /v1/accounts {\"name\":\"Acme\"}
POST /v1/accounts/{acc1}/rooms {\"name\":\"r\"}
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/../x x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/a/../../x x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/%2e%2e/x x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/..%2fx x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/a%2F..%2F..%2Fx x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/. x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/a/./b x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/%2Fetc/passwd x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files//etc/passwd x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/a//b x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/a/ x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/ x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/a%5Cb x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/a\\b x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/..%5C..%5Cx x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/a%01b x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/a%7F x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/%FF x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/" . ("n" x 1025) . " x
GET /v1/accounts/{acc1}/rooms/{room1}/files/..%2F..%2Fusers
DELETE /v1/accounts/{acc1}/rooms/{room1}/files/..
disk
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/" . ("n" x 1024) . " x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/...%20.a/..b/c.. x
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o.txt x
count GET /v1/accounts/{acc1}/rooms/{room1}/files
"
--- response_body_like chomp
^POST [^\n]*
POST [^\n]*
(PUT \S+ 400 \{"error":\{"code":"invalid_request","message":"name: must not have \. or \.\. as a folder or file name","field":"name"\}\}
){7}(PUT \S+ 400 \{"error":\{"code":"invalid_request","message":"name: must not start with /","field":"name"\}\}
){2}(PUT \S+ 400 \{"error":\{"code":"invalid_request","message":"name: must not have an empty folder or file name","field":"name"\}\}
){2}PUT \S+ 400 \{"error":\{"code":"invalid_request","message":"name: is required","field":"name"\}\}
(PUT \S+ 400 \{"error":\{"code":"invalid_request","message":"name: must not contain a backslash","field":"name"\}\}
){3}(PUT \S+ 400 \{"error":\{"code":"invalid_request","message":"name: must not contain NUL or control characters","field":"name"\}\}
){2}PUT \S+ 400 \{"error":\{"code":"invalid_request","message":"name: must be valid UTF-8","field":"name"\}\}
PUT \S+ 400 \{"error":\{"code":"invalid_request","message":"name: must be at most 1024 bytes","field":"name"\}\}
GET \S+ 400 \{"error":\{"code":"invalid_request","message":"name: must not have \. or \.\. as a folder or file name","field":"name"\}\}
DELETE \S+ 400 \{"error":\{"code":"invalid_request","message":"name: must not have \. or \.\. as a folder or file name","field":"name"\}\}
disk: no room folder
PUT \S+ 201 \{"name":"n{1024}",[^\n]*\}
PUT \S+ 201 \{"name":"\.\.\. \.a/\.\.b/c\.\.",[^\n]*\}
PUT \S+ 201 \{"name":"a/b/c/d/e/f/g/h/i/j/k/l/m/n/o.txt",[^\n]*\}
GET \S+ 200 3 items, last page$

=== TEST 10: spellings nginx itself refuses never reach the module
--- init
main::make_room();
--- request eval
["PUT $::Path/%00\nx", "PUT $::Path/a%zz\nx", "PUT $::Path/a%2F%00\nx",
 "PUT $::Path/../../../../../../../../../x\nx",
 "POST /t\ndisk"]
--- more_headers eval
[$::Admin, $::Admin, $::Admin, $::Admin, ""]
--- error_code eval
[400, 400, 400, 400, 200]
--- response_body_like eval
["400 Bad Request", "400 Bad Request", "400 Bad Request", "400 Bad Request",
 "^disk: no room folder\n\\z"]
--- no_error_log
[alert]
[crit]
[emerg]

=== TEST 11: a room holds collab_files_max_per_room files; more is 409
--- http_config eval
$CollabTest::HttpConfig . "    collab_files_max_per_room 2;\n"
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms {"name":"r2"}
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/one 1
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/two 2
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/three 3
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/two 22
raw PUT /v1/accounts/{acc1}/rooms/{room2}/files/three 3
DELETE /v1/accounts/{acc1}/rooms/{room1}/files/one
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/three 3
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"r","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room2}","name":"r2","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/files/one 201 {"name":"one","size":1,"contentType":"application/octet-stream","etag":"\"{blob1}\"","uploadedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/files/two 201 {"name":"two","size":1,"contentType":"application/octet-stream","etag":"\"{blob2}\"","uploadedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/files/three 409 {"error":{"code":"conflict","message":"the room already has 2 files, the most it may have"}}
PUT /v1/accounts/{acc1}/rooms/{room1}/files/two 200 {"name":"two","size":2,"contentType":"application/octet-stream","etag":"\"{blob3}\"","uploadedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room2}/files/three 201 {"name":"three","size":1,"contentType":"application/octet-stream","etag":"\"{blob4}\"","uploadedAt":"<ts>"}
DELETE /v1/accounts/{acc1}/rooms/{room1}/files/one 204
PUT /v1/accounts/{acc1}/rooms/{room1}/files/three 201 {"name":"three","size":1,"contentType":"application/octet-stream","etag":"\"{blob5}\"","uploadedAt":"<ts>"}

=== TEST 12: an account's files fit collab_files_quota; more is 413, nothing kept
--- http_config eval
$CollabTest::HttpConfig . "    collab_files_quota 10;\n"
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts {"name":"Other"}
POST /v1/accounts/{acc1}/rooms {"name":"r"}
POST /v1/accounts/{acc1}/rooms {"name":"r2"}
POST /v1/accounts/{acc2}/rooms {"name":"theirs"}
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/six 123456
raw PUT /v1/accounts/{acc1}/rooms/{room2}/files/five 12345
raw PUT /v1/accounts/{acc1}/rooms/{room2}/files/four 1234
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/six 12345678901
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/six 123
raw PUT /v1/accounts/{acc1}/rooms/{room2}/files/five 12345
raw PUT /v1/accounts/{acc2}/rooms/{room3}/files/ten 1234567890
GET /v1/accounts/{acc1}/rooms/{room1}/files/six
disk
--- response_body_like chomp
^(POST [^\n]*\n){5}PUT /v1/accounts/\{acc1\}/rooms/\{room1\}/files/six 201 \{"name":"six","size":6,[^\n]*
PUT \S+ 413 \{"error":\{"code":"payload_too_large","message":"the account's files would take 11 bytes, more than its quota of 10"\}\}
PUT \S+ 201 \{"name":"four","size":4,[^\n]*
PUT \S+ 413 \{"error":\{"code":"payload_too_large","message":"the account's files would take 15 bytes, more than its quota of 10"\}\}
PUT \S+ 200 \{"name":"six","size":3,[^\n]*
PUT \S+ 413 \{"error":\{"code":"payload_too_large","message":"the account's files would take 12 bytes, more than its quota of 10"\}\}
PUT \S+ 201 \{"name":"ten","size":10,[^\n]*
GET \S+ 200 123
disk \{room1\}: \{blob\d\}
disk \{room2\}: \{blob\d\}
disk \{room3\}: \{blob\d\}$

=== TEST 13: deleting a room removes its files and their bytes
--- request
POST /t
as admin
POST /v1/accounts {"name":"Acme"}
POST /v1/accounts/{acc1}/rooms {"name":"gone"}
POST /v1/accounts/{acc1}/rooms {"name":"stays"}
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/a 1
raw PUT /v1/accounts/{acc1}/rooms/{room1}/files/dir/b 2
raw PUT /v1/accounts/{acc1}/rooms/{room2}/files/c 3
disk
DELETE /v1/accounts/{acc1}/rooms/{room1}
GET /v1/accounts/{acc1}/rooms/{room1}/files/a
disk
--- response_body
POST /v1/accounts 201 {"id":"{acc1}","name":"Acme","createdAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room1}","name":"gone","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
POST /v1/accounts/{acc1}/rooms 201 {"id":"{room2}","name":"stays","metadata":{},"createdAt":"<ts>","updatedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/files/a 201 {"name":"a","size":1,"contentType":"application/octet-stream","etag":"\"{blob1}\"","uploadedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room1}/files/dir/b 201 {"name":"dir/b","size":1,"contentType":"application/octet-stream","etag":"\"{blob2}\"","uploadedAt":"<ts>"}
PUT /v1/accounts/{acc1}/rooms/{room2}/files/c 201 {"name":"c","size":1,"contentType":"application/octet-stream","etag":"\"{blob3}\"","uploadedAt":"<ts>"}
disk {room1}: {blob1} {blob2}
disk {room2}: {blob3}
DELETE /v1/accounts/{acc1}/rooms/{room1} 204
GET /v1/accounts/{acc1}/rooms/{room1}/files/a 404 {"error":{"code":"not_found","message":"room not found"}}
disk {room2}: {blob3}

=== TEST 14: an upload is moved to the files folder when nginx buffers bodies on another filesystem
--- config eval
$CollabTest::Config . "    client_body_temp_path /dev/shm/collab-test-$$;\n"
--- init
main::make_room();
--- request eval
["PUT $::Path/copied.bin\n$::Binary", "GET $::Path/copied.bin", "POST /t\ndisk"]
--- more_headers eval
["$::Admin\nContent-Length: 1024", $::Admin, ""]
--- error_code eval
[201, 200, 200]
--- response_body_like eval
[qr/"size":1024,/, "^\Q$::Binary\E\\z", qr/^disk \{room1\}: \{blob1\}\n\z/]

=== TEST 15: rows and bytes are made to agree at start (1: files are uploaded)
--- http_config eval: $::KeptHttpConfig
--- config eval: $::KeptConfig
--- init
main::sql("INSERT INTO accounts (id, name, created_at) VALUES ('$::Acc', 'Files', 0);"
          . " INSERT INTO rooms (id, account_id, name, metadata, created_at,"
          . " updated_at) VALUES ('$::Room', '$::Acc', 'r', '{}', 0, 0)");
--- request eval
"POST /t
as admin
raw PUT $::Path/lost.txt lost
raw PUT $::Path/cut.txt cut short
raw PUT $::Path/kept.txt kept
raw PUT $::Path/copy.txt copied
disk
"
--- response_body_like chomp
^(PUT [^\n]* 201 [^\n]*\n){4}disk \{room1\}: \{blob1\} \{blob2\} \{blob3\} \{blob4\}$

=== TEST 16: rows and bytes are made to agree at start (2: after a crash)
--- http_config eval: $::KeptHttpConfig
--- config eval: $::KeptConfig
--- post_setup_server_root
my %blob = map { split /\|/ } split /\n/,
           main::sql("SELECT name, blob FROM files");
my $dir = "$::Kept/files/$::Room";
my $gone = "$::Kept/files/11111111-2222-4333-8444-555555555555";
my $fh;
# the bytes of one file vanished, another lost its tail
unlink "$dir/$blob{'lost.txt'}" or die "unlink: $!";
truncate "$dir/$blob{'cut.txt'}", 3 or die "truncate: $!";
# an upload renamed into place whose row was never committed
open $fh, '>', "$dir/blob_UnfinishedUnfinished00" or die "open: $!";
print $fh "half";
close $fh;
# a copy across filesystems that was never renamed
open $fh, '>', "$dir/$blob{'copy.txt'}.0000000042" or die "open: $!";
close $fh;
# the folder of a room whose deletion was committed
mkdir $gone or die "mkdir: $!";
open $fh, '>', "$gone/blob_OfADeletedRoom00000000" or die "open: $!";
close $fh;
# and a file that is not collab's
open $fh, '>', "$dir/notes.txt" or die "open: $!";
close $fh;
--- request eval
"POST /t
as admin
GET $::Path
GET $::Path/kept.txt
GET $::Path/copy.txt
GET $::Path/lost.txt
GET $::Path/cut.txt
disk
"
--- response_body_like chomp
^GET \S+ 200 \{"data":\[\{"name":"copy.txt",[^\n]*"etag":"\\"\{blob1\}\\""[^\n]*\},\{"name":"kept.txt",[^\n]*"etag":"\\"\{blob2\}\\""[^\n]*\}\],"nextCursor":null\}
GET \S+ 200 kept
GET \S+ 200 copied
GET \S+ 404 \{"error":\{"code":"not_found","message":"file not found"\}\}
GET \S+ 404 \{"error":\{"code":"not_found","message":"file not found"\}\}
disk \{room1\}: notes.txt \{blob1\} \{blob2\}$
--- error_log eval
["is missing or incomplete, its file of room 0f0f0f0f-1111-4222-8333-444455556666 is removed",
 "blob_UnfinishedUnfinished00\", which no file refers to",
 ".0000000042\", which no file refers to",
 "blob_OfADeletedRoom00000000\", which no file refers to",
 "notes.txt\" is not a file of collab, left alone"]
--- no_error_log
[error]
[crit]
[alert]

=== TEST 17: "nginx -t" next to a running server leaves its files alone
--- init
main::make_room();
my $root = Test::Nginx::Socket::server_root();
my $dir = "$root/logs/files/$::Room";
mkdir $dir or die "mkdir: $!";
open my $fh, '>', "$dir/blob_NotYetCommittedUpload0" or die "open: $!";
close $fh;
system("$Test::Nginx::Util::NginxBinary -t -q -p $root/ -c $root/conf/nginx.conf"
       . " > /dev/null 2>&1") == 0 or die "nginx -t failed\n";
--- request
POST /t
disk
--- response_body
disk {room1}: {blob1}

=== TEST 18: downloads are never sniffed, and types that can run script come as attachments
--- init
main::make_room();
--- request eval
["PUT $::Path/page.html\n<script>alert(1)</script>", "GET $::Path/page.html",
 "PUT $::Path/img/logo.svg\n<svg/>", "GET $::Path/img/logo.svg",
 "PUT $::Path/data.xml\n<a/>", "HEAD $::Path/data.xml",
 "PUT $::Path/feed\n<rss/>", "GET $::Path/feed",
 "PUT $::Path/x.xhtml\n<html/>", "GET $::Path/x.xhtml",
 "PUT $::Path/app.js\nalert(1)", "GET $::Path/app.js",
 "PUT $::Path/odd\n<b/>", "GET $::Path/odd",
 "PUT $::Path/dir/r%C3%A9sum%C3%A9%20%221%22;.html\n<p/>",
 "GET $::Path/dir/r%C3%A9sum%C3%A9%20%221%22;.html",
 "PUT $::Path/notes.txt\nhi", "GET $::Path/notes.txt",
 "PUT $::Path/photo.png\npng", "GET $::Path/photo.png",
 "PUT $::Path/raw\nbytes", "GET $::Path/raw"]
--- more_headers eval
["$::Admin\nContent-Type: text/html; charset=utf-8", $::Admin,
 "$::Admin\nContent-Type: image/svg+xml", $::Admin,
 "$::Admin\nContent-Type: text/xml", $::Admin,
 "$::Admin\nContent-Type: application/rss+xml", $::Admin,
 "$::Admin\nContent-Type: Application/XHTML+XML ; q=1", $::Admin,
 "$::Admin\nContent-Type: text/javascript", $::Admin,
 "$::Admin\nContent-Type: text/plain, text/html", $::Admin,
 "$::Admin\nContent-Type: text/html", $::Admin,
 "$::Admin\nContent-Type: text/plain", $::Admin,
 "$::Admin\nContent-Type: image/png", $::Admin,
 $::Admin, $::Admin]
--- error_code eval
[(201, 200) x 11]
--- response_headers eval
["", "Content-Type: text/html; charset=utf-8\nX-Content-Type-Options: nosniff\nContent-Disposition: attachment; filename=\"page.html\"; filename*=UTF-8''page.html",
 "", "Content-Type: image/svg+xml\nX-Content-Type-Options: nosniff\nContent-Disposition: attachment; filename=\"logo.svg\"; filename*=UTF-8''logo.svg",
 "", "X-Content-Type-Options: nosniff\nContent-Disposition: attachment; filename=\"data.xml\"; filename*=UTF-8''data.xml",
 "", "X-Content-Type-Options: nosniff\nContent-Disposition: attachment; filename=\"feed\"; filename*=UTF-8''feed",
 "", "X-Content-Type-Options: nosniff\nContent-Disposition: attachment; filename=\"x.xhtml\"; filename*=UTF-8''x.xhtml",
 "", "X-Content-Type-Options: nosniff\nContent-Disposition: attachment; filename=\"app.js\"; filename*=UTF-8''app.js",
 "", "X-Content-Type-Options: nosniff\nContent-Disposition: attachment; filename=\"odd\"; filename*=UTF-8''odd",
 "", "X-Content-Type-Options: nosniff\nContent-Disposition: attachment; filename=\"r_sum___1__.html\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%221%22%3B.html",
 "", "Content-Type: text/plain\nX-Content-Type-Options: nosniff\n!Content-Disposition",
 "", "Content-Type: image/png\nX-Content-Type-Options: nosniff\n!Content-Disposition",
 "", "Content-Type: application/octet-stream\nX-Content-Type-Options: nosniff\n!Content-Disposition"]
