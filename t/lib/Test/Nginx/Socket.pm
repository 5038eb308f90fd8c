package Test::Nginx::Socket;

# A data-driven test scaffold for nginx modules, compatible with the subset
# of the CPAN module Test::Nginx::Socket used by this project's tests (see
# t/README.md).  Test files are Test::Base specs: the part after __DATA__
# holds "=== TEST n: title" blocks made of "--- section" values.  For every
# block, Test::Nginx::Util writes a fresh nginx.conf and (re)starts nginx;
# this module sends the block's request(s) over a plain TCP socket and
# checks the response(s) and the logs.
#
# "-base" makes this package a Test::Base subclass (so that test files get
# blocks(), is(), plan() ... through "use Test::Nginx::Socket") without
# Spiffy's "-Base" source filter, so the subroutines below are plain Perl.
use Test::Base -base;

use strict;
use warnings;

our $VERSION = '0.001';

use Digest::MD5 ();
use Digest::SHA ();
use Encode ();
use HTTP::Response ();
use IO::Select ();
use IO::Socket::INET ();
use JSON::PP ();
use List::Util qw(min);
use Time::HiRes qw(sleep time);

use Test::Nginx::Util;

our @EXPORT = qw(
    env_to_nginx is_str plan run_tests run_test
    repeat_each config_preamble worker_connections
    master_process_enabled
    no_long_string workers master_on master_off
    log_level no_shuffle no_root_location use_hup
    server_name
    server_addr server_root html_dir server_port server_port_for_client
    timeout no_nginx_manager check_accum_error_log
    add_block_preprocessor bail_out add_test_cleanup_handler
    add_cleanup_handler add_response_body_check
);

{
    no warnings q(once);
    *run_test = \&Test::Nginx::Util::run_test;
}

our $TotalConnectingTimeouts = 0;
our @ResponseBodyChecks;

# Give up connecting to nginx after this many seconds of retrying.
our $MaxConnectWait = 10;

$RunTestHelper         = \&run_test_helper;
$CheckErrorLog         = \&check_error_log;
$CheckShutdownErrorLog = \&check_shutdown_error_log;

sub set_http_config_filter ($) {
    $FilterHttpConfig = shift;
}

sub add_response_body_check ($) {
    push @ResponseBodyChecks, shift;
}

# ---------------------------------------------------------------------------
# Building requests
# ---------------------------------------------------------------------------

# Splits the text of one request ("METHOD [URI [VERSION]]" on the first
# line, the body on the following lines) into its parts.  A missing URI
# means "/", a missing version "HTTP/1.1".
sub parse_request {
    my ($name, $raw) = @_;

    $raw = '' if !defined $raw;
    my ($first, $body) = $raw =~ /\A([^\n]*\n?)(.*)\z/s;
    if (!defined $first || $first eq '') {
        bail_out("$name - Request line should be non-empty");
    }

    if ($first !~ /^(\s*)(\S+)( *)(?:(\S+)( *))?(?:(\S+)( *))?(\s*)$/) {
        bail_out("$name - Request line is not valid. Should be 'meth [url "
                 . "[version]]' but got \"$first\".");
    }

    return {
        method    => $2,
        url       => defined $4 ? $4 : '/',
        http_ver  => defined $6 ? $6 : 'HTTP/1.1',
        lead_len  => length $1,
        first_len => length $first,
        body      => $body,
    };
}

# Turns the raw text of a request, given as a list of packets, into a
# complete HTTP request with the same packet boundaries:
#
#  * the request line is rewritten as "METHOD URI VERSION\r\n";
#  * "Host: localhost" and "Connection: $conn_header" are added unless
#    --- more_headers already has them, followed by --- more_headers;
#  * when there is a body and neither "Content-Length:" nor chunked
#    Transfer-Encoding is in --- more_headers, the body is stripped of
#    leading and trailing whitespace (the trailing newline of a section
#    in particular) and a Content-Length header is added.  Otherwise the
#    body is sent byte for byte.
#
# A boundary falling inside the request line stays inside the rewritten
# request line; a boundary in the body keeps its position relative to the
# (trimmed) body, so the first packet always carries all the headers when
# the split is in the body.
sub build_request_from_packets {
    my ($name, $more_headers, $is_chunked, $conn_header, $packets) = @_;

    my $raw = join '', map { defined $_ ? $_ : '' } @$packets;
    my $req = parse_request($name, $raw);

    my $body = $req->{body};
    my ($body_skip, $len_header) = (0, '');
    if (!$is_chunked && $body ne ''
        && $more_headers !~ /(?:^|\n)Content-Length:/)
    {
        $body_skip = length(($body =~ /\A(\s*)/)[0]);
        $body =~ s/^\s+|\s+$//gs;
        $len_header = 'Content-Length: ' . length($body) . "\r\n";
    }

    (my $headers = $more_headers) =~ s/(?<!\r)\n/\r\n/gs;

    my $request_line = "$req->{method} $req->{url} $req->{http_ver}";
    my $head = "$request_line\r\n";
    $head .= "Host: $ServerName\r\n"
        if $more_headers !~ /(?:^|\n)Host:/msi;
    $head .= "Connection: $conn_header\r\n"
        if $more_headers !~ /(?:^|\n)Connection/msi;
    $head .= "$headers$len_header\r\n";

    my $full = $head . $body;
    return [$full] if @$packets <= 1;

    # Map each original packet boundary onto the rebuilt request.
    my @cuts;
    my ($orig, $prev) = (0, 0);
    for my $i (0 .. $#$packets - 1) {
        $orig += length(defined $packets->[$i] ? $packets->[$i] : '');
        my $cut;
        if ($orig < $req->{first_len}) {
            $cut = $orig - $req->{lead_len};
            $cut = 0 if $cut < 0;
            $cut = length $request_line if $cut > length $request_line;
        } else {
            my $off = $orig - $req->{first_len} - $body_skip;
            $off = 0 if $off < 0;
            $off = length $body if $off > length $body;
            $cut = length($head) + $off;
        }
        $cut = $prev if $cut < $prev;
        push @cuts, $cut;
        $prev = $cut;
    }

    my @out;
    my $start = 0;
    for my $cut (@cuts, length $full) {
        push @out, substr($full, $start, $cut - $start);
        $start = $cut;
    }
    return \@out;
}

# "--- more_headers" text -> ("Name: value\r\n" lines, is_chunked).  Lines
# starting with "#" are comments.
sub parse_more_headers {
    my ($in) = @_;
    my ($out, $is_chunked) = ('', undef);

    for my $header (split /\n+/, $in) {
        next if $header =~ /^\s*\#/;
        my ($key, $val) = split /:\s*/, $header, 2;
        $val = '' if !defined $val;
        if (lc($key) eq 'transfer-encoding' && $val eq 'chunked') {
            $is_chunked = 1;
        }
        $out .= "$key: $val\r\n";
    }

    return ($out, $is_chunked);
}

sub _headers_for {
    my ($more_headers, $i, $what) = @_;

    if (ref $more_headers eq 'ARRAY') {
        my $hdr = $more_headers->[$i];
        bail_out("--- more_headers lacks data for $what") if !defined $hdr;
        return parse_more_headers($hdr);
    }

    return parse_more_headers($more_headers);
}

# Returns the requests of a block: a list of requests, each being a list
# of packets ({ value => bytes, delay_before => seconds }) to write.
sub get_req_from_block {
    my ($block) = @_;
    my $name = $block->name;
    my @req_list;

    if (defined $block->raw_request) {
        my $raw = $block->raw_request;
        if (ref $raw && ref $raw eq 'ARRAY') {
            push @req_list, [map { { value => $_ } } @$raw];
        } else {
            push @req_list, [{ value => $raw }];
        }
        return \@req_list;
    }

    my $request;
    if (defined $block->request_eval) {
        Test::More::diag("$name - request_eval DEPRECATED. Use request eval "
                         . "instead.");
        $request = eval $block->request_eval;
        warn $@ if $@;
    } else {
        $request = $block->request;
        if (defined $request && !ref $request) {
            # Leading blank lines, indentation and "#" comment lines before
            # the request line are ignored.
            1 while $request =~ s/^\s*\#[^\n]+\s+|^\s+//gs;
        }
    }

    my $more_headers = $block->more_headers || '';

    if ($block->pipelined_requests) {
        my $reqs = $block->pipelined_requests;
        if (!ref $reqs || ref $reqs ne 'ARRAY') {
            bail_out("$name - invalid entries in --- pipelined_requests");
        }

        # All requests go out in one write on one connection; all but the
        # last one ask for keep-alive.
        my $all = '';
        for my $i (0 .. $#$reqs) {
            my $one = expand_env_in_text($reqs->[$i], $name,
                                         $Test::Nginx::Util::RandPorts);
            my ($hdr, $is_chunked) = _headers_for($more_headers, $i,
                                                  "the $i pipelined request");
            my $conn = $i == $#$reqs ? 'close' : 'keep-alive';
            $all .= build_request_from_packets($name, $hdr, $is_chunked,
                                               $conn, [$one])->[0];
        }
        push @req_list, [{ value => $all }];
        return \@req_list;
    }

    if (!ref $request) {
        my ($hdr, $is_chunked) = _headers_for($more_headers, 0,
                                              'the request');
        my $built = build_request_from_packets($name, $hdr, $is_chunked,
                                               'close', [$request]);
        push @req_list, [{ value => $built->[0] }];
        return \@req_list;
    }

    if (ref $request ne 'ARRAY') {
        bail_out("$name - invalid ---request : MUST be string or array of "
                 . "requests");
    }

    # Several requests, one connection each.  A request may itself be a
    # list of packets (strings or { value, delay_before } hashes).
    for my $i (0 .. $#$request) {
        my $one = $request->[$i];
        my ($hdr, $is_chunked) = _headers_for($more_headers, $i,
                                              "the ${i}th request");

        if (!ref $one) {
            my $built = build_request_from_packets($name, $hdr, $is_chunked,
                                                   'close', [$one]);
            push @req_list, [{ value => $built->[0] }];

        } elsif (ref $one eq 'ARRAY') {
            my @values;
            for my $packet (@$one) {
                if (!ref $packet) {
                    push @values, $packet;
                } elsif (ref $packet eq 'HASH') {
                    push @values, $packet->{value};
                } else {
                    bail_out("$name - Invalid syntax. $packet should be a "
                             . "string or hash with value.");
                }
            }

            my $built = build_request_from_packets($name, $hdr, $is_chunked,
                                                   'close', \@values);
            my @packets;
            for my $j (0 .. $#$built) {
                my $orig = $one->[$j];
                push @packets, {
                    (ref $orig ? %$orig : ()),
                    value => $built->[$j],
                };
            }
            push @req_list, \@packets;

        } else {
            bail_out("$name - Invalid syntax. $one should be a string or an "
                     . "array of packets.");
        }
    }

    return \@req_list;
}

# ---------------------------------------------------------------------------
# Talking to nginx
# ---------------------------------------------------------------------------

# Connects to nginx (retrying for a while, since nginx may still be coming
# up), writes the packets of one request and reads until nginx closes the
# connection.  $timeout applies to every wait for socket I/O, not to the
# whole exchange.  Returns ($raw_response, $is_head_request).
sub send_request {
    my ($req, $middle_delay, $timeout, $block) = @_;
    my $name = $block->name;

    my @bits = ref $req ? @$req : ({ value => $req });
    my $head_req =
        (join '', map { defined $_->{value} ? $_->{value} : '' } @bits)
        =~ /^\s*HEAD\s+/ ? 1 : 0;

    my $addr = $block->server_addr_for_client;
    $addr = $ServerAddr if !defined $addr;

    my ($sock, $err);
    my ($tries, $waited) = (0, 0);
    while (1) {
        $sock = IO::Socket::INET->new(
            PeerAddr => $addr,
            PeerPort => $ServerPortForClient,
            Proto    => 'tcp',
            Timeout  => $timeout,
        );
        last if $sock;
        $err = $!;

        if ($waited >= $MaxConnectWait) {
            my $msg = "$name - Can't connect to $addr:$ServerPortForClient: "
                      . "$err (aborted)\n";
            if (++$TotalConnectingTimeouts < 3) {
                fail($msg);
            } else {
                bail_out($msg);
            }
            return (undef, $head_req);
        }

        $tries++;
        my $wait = (sleep_time() + sleep_time() * $tries) * $tries / 2;
        $wait = 1 if $wait > 1;
        if ($wait >= 0.6) {
            warn "$name - Can't connect to $addr:$ServerPortForClient: "
                 . "$err\n\tRetry connecting after $wait sec\n";
        }
        sleep $wait;
        $waited += $wait;
    }

    $sock->blocking(0);

    # A write to a connection that nginx already closed must not kill us.
    local $SIG{PIPE} = 'IGNORE';

    my $resp = '';
    my $cur = shift @bits;
    my $wbuf = defined $cur->{value} ? $cur->{value} : '';
    my $woff = 0;
    my $writing = 1;
    my $sel = IO::Select->new($sock);

  IO:
    while (1) {
        my ($readable, $writable) =
            IO::Select->select($sel, $writing ? $sel : undef, undef,
                               $timeout);

        if (!$readable && !$writable) {
            close $sock;
            if (!defined $block->abort) {
                fail("ERROR: client socket timed out - $name\n");
            } else {
                sleep 0.005;
            }
            last IO;
        }

        if ($writable && @$writable) {
          WRITE:
            while (1) {
                my $rest = length($wbuf) - $woff;
                if ($rest > 0) {
                    my $bytes = syswrite($sock, $wbuf, $rest, $woff);
                    if (!defined $bytes) {
                        last WRITE if $!{EAGAIN} || $!{EWOULDBLOCK};
                        # nginx may have answered and closed early (e.g.
                        # 413); stop writing and still read its response.
                        warn "write failed: $!\n";
                        $writing = 0;
                        last WRITE;
                    }
                    $woff += $bytes;
                    next WRITE;
                }

                my $next = shift @bits;
                if (!defined $next) {
                    $writing = 0;
                    my $how = $block->shutdown;
                    if (defined $how) {
                        $how = 1 if $how =~ /^\s*$/s;
                        shutdown($sock, $how);
                    }
                    last WRITE;
                }

                $wbuf = defined $next->{value} ? $next->{value} : '';
                $woff = 0;
                my $delay = defined $next->{delay_before}
                    ? $next->{delay_before} : $middle_delay;
                sleep $delay if $delay;
            }
        }

        if ($readable && @$readable) {
            while (1) {
                my $buf;
                my $bytes = sysread($sock, $buf, 8192);
                if (!defined $bytes) {
                    next IO if $!{EAGAIN} || $!{EWOULDBLOCK};
                    warn "WARNING: $name - HTTP response read failure: $!\n";
                    last IO;
                }
                last IO if $bytes == 0;    # nginx closed the connection
                $resp .= $buf;
            }
        }
    }

    close $sock;
    return ($resp, $head_req);
}

# Decodes a chunked body.  Returns ($decoded, $bytes_after_last_chunk) or
# (undef, undef, $error).  Trailer fields after the last chunk are skipped.
sub decode_chunked {
    my ($raw) = @_;
    my $decoded = '';
    pos($raw) = 0;

    while (1) {
        if ($raw =~ /\G[ \t]*([0-9A-Fa-f]+)[ \t]*(?:;[^\r\n]*)?\r\n/gc) {
            my $size = hex $1;

            if ($size == 0) {
                1 while $raw =~ /\G[^\r\n]+\r\n/gc;
                if ($raw !~ /\G\r\n/gc) {
                    return (undef, undef,
                            'invalid chunked data received (expected CRLF).');
                }
                return ($decoded, substr($raw, pos $raw));
            }

            my $at = pos $raw;
            if (length($raw) - $at < $size) {
                return (undef, undef, 'invalid chunked data received (not '
                        . 'enough octets for the data section)');
            }
            $decoded .= substr($raw, $at, $size);
            pos($raw) = $at + $size;

            if ($raw !~ /\G\r\n/gc) {
                return (undef, undef,
                        'invalid chunked data received (expected CRLF).');
            }

        } elsif ($raw =~ /\G(.+)/gcs) {
            return (undef, undef, "invalid chunked body received: $1");

        } else {
            return (undef, undef, "no last chunk found - $raw");
        }
    }
}

# Parses one response off the front of $raw_resp.  Returns the
# HTTP::Response, the raw header text and whatever follows the response
# (the next pipelined response), using Content-Length or chunked framing.
sub parse_response {
    my ($name, $raw_resp, $head_req) = @_;

    my $raw_headers = $raw_resp =~ /(.*?\r\n)\r\n/s ? $1 : '';
    my $res = HTTP::Response->parse($raw_resp);
    my $left;

    my $code = $res->code;
    if ($code && $code !~ /^\d+$/) {
        undef $code;
        $res->code(undef);
    }

    return ($res, $raw_headers) if $code && ($code == 304 || $code == 101);

    my $enc = $res->header('Transfer-Encoding');
    my $len = $res->header('Content-Length');

    if (defined $enc && $enc eq 'chunked') {
        my $content = $res->content;
        my ($decoded, $rest, $err) =
            decode_chunked(defined $content ? $content : '');
        if (defined $err) {
            fail("$name - $err");
            return;
        }
        $res->content($decoded);
        $left = $rest if length $rest;

    } elsif (defined $len && $len =~ /^\s*\d+\s*$/) {
        my $content = $res->content;
        $content = '' if !defined $content;
        if (length $content < $len) {
            if (!$head_req) {
                warn "WARNING: $name - response body truncated: $len "
                     . "expected, but got " . length($content) . "\n";
            }
        } elsif (length $content > $len) {
            $left = substr($content, $len);
            $res->content(substr($content, 0, $len));
        }
    }

    return ($res, $raw_headers, $left);
}

# ---------------------------------------------------------------------------
# Running one block
# ---------------------------------------------------------------------------

sub run_test_helper {
    my ($block, $dry_run, $repeated_req_idx) = @_;
    my $name = $block->name;

    my $r_req_list = get_req_from_block($block);
    bail_out("$name - request empty") if !@$r_req_list;

    my $timeout = parse_time($block->timeout);
    $timeout = timeout() if !defined $timeout;

    my $wait = parse_time($block->wait);

    my ($res, $n, $need_array);
    my $req_idx = 0;

    for my $one_req (@$r_req_list) {
        my ($raw_resp, $head_req);

        if ($dry_run) {
            $raw_resp = "200 OK HTTP/1.0\r\nContent-Length: 0\r\n\r\n";
        } else {
            ($raw_resp, $head_req) =
                send_request($one_req, scalar($block->raw_request_middle_delay),
                             $timeout, $block);
        }

        if ($block->pipelined_requests) {
            $n = @{ $block->pipelined_requests };
            $need_array = 1;
        } else {
            $need_array = @$r_req_list > 1;
        }

        # Pipelined responses all arrive on one connection: parse them one
        # after the other off the same buffer.
        while (1) {
            $raw_resp = '' if !defined $raw_resp;

            my ($raw_headers, $left);
            if (!defined $block->ignore_response) {
                if (defined $block->http09) {
                    $res = HTTP::Response->new(200, 'OK', [], $raw_resp);
                    $raw_headers = '';
                } else {
                    ($res, $raw_headers, $left) =
                        parse_response($name, $raw_resp, $head_req);
                }
            }

            if (!$n) {
                if (defined $left && length $left) {
                    (my $shown = $left) =~
                        s/([\0-\037\200-\377])/sprintf('\x{%02x}', ord $1)/eg;
                    warn "WARNING: $name - unexpected extra bytes after last "
                         . "chunk in response: \"$shown\"\n";
                }
            } else {
                $raw_resp = $left;
                $n--;
            }

            if (!defined $block->ignore_response) {
                check_error_code($block, $res, $dry_run, $req_idx,
                                 $need_array);
                check_raw_response_headers($block, $raw_headers, $dry_run,
                                           $req_idx, $need_array);
                check_response_headers($block, $res, $raw_headers, $dry_run,
                                       $req_idx, $need_array);
                transform_response_body($block, $res, $req_idx);
                check_response_body($block, $res, $dry_run, $req_idx,
                                    $repeated_req_idx, $need_array);
            }

            # The logs are also checked between the requests of a block;
            # each check only looks at lines logged since the previous one.
            if ($n || $req_idx < @$r_req_list - 1) {
                sleep $wait if $wait;
                check_error_log($block, $res, $dry_run, $repeated_req_idx,
                                $need_array);
                if (!defined $block->ignore_response) {
                    check_access_log($block, $dry_run, $repeated_req_idx);
                }
            }

            $req_idx++;
            last if !$n;
        }
    }

    sleep $wait if $wait;

    check_error_log($block, $res, $dry_run, $repeated_req_idx, $need_array);
    if (!defined $block->ignore_response) {
        check_access_log($block, $dry_run, $repeated_req_idx);
    }
}

# ---------------------------------------------------------------------------
# Checks.  Test names and the number of assertions per check follow the
# CPAN module, so TAP output and plans line up.
# ---------------------------------------------------------------------------

# Picks the expectation for request $req_idx: with several requests in a
# block, the expected values must be arrays.
sub get_indexed_value {
    my ($name, $value, $req_idx, $need_array) = @_;

    if ($need_array) {
        return $value->[$req_idx] if ref $value && ref $value eq 'ARRAY';
        bail_out("$name - You asked for many requests, the expected results "
                 . "should be arrays as well.");
    }

    if (ref $value && ref $value eq 'ARRAY') {
        if ($req_idx != 0) {
            bail_out("$name - SHOULD NOT HAPPEN: idx != 0 and don't need "
                     . "array.");
        }
        return $value->[0];
    }

    return $value;
}

sub check_error_code {
    my ($block, $res, $dry_run, $req_idx, $need_array) = @_;
    my $name = $block->name;
    my $code = ($res && $res->code) || '';

  SKIP: {
        skip "$name - tests skipped due to $dry_run", 1 if $dry_run;

        if (defined $block->error_code_like) {
            my $val = get_indexed_value($name, scalar($block->error_code_like),
                                        $req_idx, $need_array);
            like($code, qr/$val/sm, "$name - status code ok");

        } elsif (defined $block->error_code) {
            my $val = get_indexed_value($name, scalar($block->error_code),
                                        $req_idx, $need_array);
            is($code, $val, "$name - status code ok");

        } else {
            is($code, 200, "$name - status code ok");
        }
    }
}

sub check_raw_response_headers {
    my ($block, $raw_headers, $dry_run, $req_idx, $need_array) = @_;
    my $name = $block->name;
    $raw_headers = '' if !defined $raw_headers;

    if (defined $block->raw_response_headers_like) {
      SKIP: {
            skip "$name - raw_response_headers_like - tests skipped due to "
                 . "$dry_run", 1 if $dry_run;
            my $expected = get_indexed_value($name,
                scalar($block->raw_response_headers_like), $req_idx,
                $need_array);
            like($raw_headers, qr/$expected/s,
                 "$name - raw resp headers like");
        }
    }

    if (defined $block->raw_response_headers_unlike) {
      SKIP: {
            skip "$name - raw_response_headers_unlike - tests skipped due "
                 . "to $dry_run", 1 if $dry_run;
            my $expected = get_indexed_value($name,
                scalar($block->raw_response_headers_unlike), $req_idx,
                $need_array);
            unlike($raw_headers, qr/$expected/s,
                   "$name - raw resp headers unlike");
        }
    }
}

# "Name: value" must match exactly; "Name:" (empty value) passes when the
# header is absent or empty; "!Name" requires the header to be absent.
sub check_response_headers {
    my ($block, $res, $raw_headers, $dry_run, $req_idx, $need_array) = @_;
    my $name = $block->name;
    $raw_headers = '' if !defined $raw_headers;

    if (defined $block->response_headers) {
        my $headers = parse_headers(get_indexed_value($name,
            scalar($block->response_headers), $req_idx, $need_array));

        for my $key (sort keys %$headers) {
            my $val = $headers->{$key};

            if (!defined $val) {
              SKIP: {
                    skip "$name - response_headers - tests skipped due to "
                         . "$dry_run", 1 if $dry_run;
                    unlike($raw_headers, qr/^\s*\Q$key\E\s*:/ms,
                           "$name - header $key not present in the raw "
                           . "headers");
                }
                next;
            }

            $val =~ s/\$ServerPort\b/$ServerPort/g;
            $val =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;

            my $actual = $res ? $res->header($key) : undef;
            $actual = '' if !defined $actual;

          SKIP: {
                skip "$name - response_headers - tests skipped due to "
                     . "$dry_run", 1 if $dry_run;
                is($actual, $val, "$name - header $key ok");
            }
        }

    } elsif (defined $block->response_headers_like) {
        my $headers = parse_headers(get_indexed_value($name,
            scalar($block->response_headers_like), $req_idx, $need_array));

        for my $key (sort keys %$headers) {
            my $val = $headers->{$key};
            $val = '' if !defined $val;
            my $actual = $res ? $res->header($key) : undef;
            $actual = '' if !defined $actual;

          SKIP: {
                skip "$name - response_headers_like - tests skipped due to "
                     . "$dry_run", 1 if $dry_run;
                like($actual, qr/^$val$/, "$name - header $key like ok");
            }
        }
    }
}

sub run_filter_helper {
    my ($block, $filter, $content) = @_;
    my $name = $block->name;

    if (ref $filter && ref $filter eq 'CODE') {
        return $filter->($content);
    }

    if (ref $filter) {
        bail_out("$name - the --- response_body_filters section only "
                 . "supports subroutine reference values and string values");
    }

    my %builtin = (
        md5_hex  => sub { Digest::MD5::md5_hex($_[0]) },
        sha1_hex => sub { Digest::SHA::sha1_hex($_[0]) },
        uc       => sub { uc $_[0] },
        lc       => sub { lc $_[0] },
        ucfirst  => sub { ucfirst $_[0] },
        lcfirst  => sub { lcfirst $_[0] },
        length   => sub { length $_[0] },
    );

    my $code = $builtin{$filter}
        or bail_out("$name - unknown filter, \"$filter\", specified in the "
                    . "--- response_body_filters section");
    return $code->($content);
}

# "--- response_body_filters": built-in filter names separated by spaces,
# code refs, or (with several requests) one array of filters per request.
sub transform_response_body {
    my ($block, $res, $req_idx) = @_;
    return if !defined $res;

    my $content = $res->content;
    return if !defined $content;

    my $filters = $block->response_body_filters;
    return if !defined $filters;

    my $name = $block->name;

    if (!ref $filters) {
        $filters =~ s/^\s+|\s+$//gs;
        $filters = [split /\s+/, $filters];
    } elsif (ref $filters ne 'ARRAY') {
        $filters = [$filters];
    }

    my $filter = $filters;
    if (ref $filters->[0] eq 'ARRAY') {
        for my $elem (@$filters) {
            if (ref $elem ne 'ARRAY') {
                bail_out("$name - the --- response_body_filters "
                         . "two-dimensional array only be like [[uc], [lc]] "
                         . "not [[uc], lc]");
            }
        }
        $filter = $filters->[$req_idx];
        if (!defined $filter) {
            bail_out("$name - the ---response_body_filters two-dimensional "
                     . "array unmatch the specified request($req_idx)");
        }
    }

    my $new = $content;
    for my $f (ref $filter eq 'ARRAY' ? @$filter : ($filter)) {
        $new = run_filter_helper($block, $f, $new);
    }

    $res->content($new);
}

sub check_response_body {
    my ($block, $res, $dry_run, $req_idx, $repeated_req_idx, $need_array)
        = @_;
    my $name = $block->name;

    if (defined $block->write_resp_body_file && defined $res) {
        my $file = $block->write_resp_body_file;
        open my $out, '>', $file
            or bail_out("$name - failed to write to file '$file': $!");
        my $body = $res->content;
        print $out defined $body ? $body : '';
        close $out;
    }

    if (defined $block->response_body || defined $block->response_body_eval) {
        my $content = $res ? $res->content : undef;
        if (defined $content) {
            $content =~ s/^TE: deflate,gzip;q=0\.3\r\n//gms;
            $content =~ s/^Connection: TE, close\r\n//gms;
        }

        if (defined $block->response_body_json_sort && defined $content) {
            # Compare JSON bodies independently of key order.
            my $js = JSON::PP->new->canonical(1);
            my $obj;
            if (eval { $obj = $js->loose(1)->decode($content); 1 }) {
                $content = $js->encode($obj) . "\n";
            }
        }

        my $expected;
        if ($block->response_body_eval) {
            Test::More::diag("$name - response_body_eval is DEPRECATED. Use "
                             . "response_body eval instead.");
            $expected = eval get_indexed_value($name,
                scalar($block->response_body_eval), $req_idx, $need_array);
            warn $@ if $@;
        } else {
            $expected = get_indexed_value($name, scalar($block->response_body),
                                          $req_idx, $need_array);
        }

        if ($block->charset && defined $expected && !ref $expected) {
            Encode::from_to($expected, 'UTF-8', scalar($block->charset));
        }

        if (defined $expected && !ref $expected) {
            $expected =~ s/\$ServerPort\b/$ServerPort/g;
            $expected =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            $expected = expand_env_in_text($expected, $name,
                                           $Test::Nginx::Util::RandPorts);
        }

      SKIP: {
            skip "$name - response_body - tests skipped due to $dry_run", 1
                if $dry_run;

            my $desc = "$name - response_body - %s (repeated req "
                       . "$repeated_req_idx, req $req_idx)";

            if (ref $expected) {
                like($content, $expected, sprintf($desc, 'like'));
            } elsif ($NoLongString) {
                is($content, $expected,
                   sprintf($desc, 'response is expected'));
            } else {
                Test::Nginx::Util::is_long_string($content, $expected,
                    sprintf($desc, 'response is expected'));
            }
        }

    } elsif (defined $block->response_body_like
             || defined $block->response_body_unlike)
    {
        my ($patterns, $type, $cmp);
        if (defined $block->response_body_like) {
            ($patterns, $type, $cmp) = (scalar($block->response_body_like),
                                        'like', \&Test::More::like);
        } else {
            ($patterns, $type, $cmp) = (scalar($block->response_body_unlike),
                                        'unlike', \&Test::More::unlike);
        }

        my $content = $res ? $res->content : undef;
        if (defined $content) {
            $content =~ s/^TE: deflate,gzip;q=0\.3\r\n//gms;
            $content =~ s/^Connection: TE, close\r\n//gms;
        }

        my $pat = get_indexed_value($name, $patterns, $req_idx, $need_array);
        $pat =~ s/\$ServerPort\b/$ServerPort/g;
        $pat =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;

        my $summary = trim($content);
        $summary = '' if !defined $summary;

      SKIP: {
            skip "$name - response_body_$type - tests skipped due to "
                 . "$dry_run", 1 if $dry_run;
            local $Test::Builder::Level = $Test::Builder::Level + 1;
            $cmp->($content, qr/$pat/s,
                   "$name - response_body_$type - response is expected "
                   . "($summary)");
        }
    }

    for my $check (@ResponseBodyChecks) {
        $check->($block, $res ? $res->content : undef, $req_idx,
                 $repeated_req_idx, $dry_run);
    }
}

sub fmt_str {
    my $str = shift;
    chomp $str;
    $str =~ s/"/\\"/g;
    $str =~ s/\r/\\r/g;
    $str =~ s/\n/\\n/g;
    return $str;
}

# A pattern section is either text (one substring per non-empty line), a
# Regexp, or (with eval) an array of substrings and Regexps.  Returns a
# fresh array.
sub _pattern_list {
    my $pats = shift;

    if (!ref $pats) {
        chomp $pats;
        return [split /\n+/, $pats];
    }

    return [$pats] if ref $pats eq 'Regexp';
    return [@$pats];
}

sub _line_matches {
    my ($line, $pat) = @_;
    return (ref $pat && $line =~ /$pat/) || $line =~ /\Q$pat\E/;
}

sub value_contains {
    my ($val, $pat) = @_;

    if (!ref $val || ref $val eq 'Regexp') {
        return $val =~ /\Q$pat\E/;
    }

    if (ref $val eq 'ARRAY') {
        for my $v (@$val) {
            return 1 if value_contains($v, $pat);
        }
    }

    return undef;
}

# Every pattern must match some line: one passing or failing assertion per
# pattern.
sub _check_log_has {
    my ($name, $section, $what, $pats, $lines, $dry_run, $suffix) = @_;
    $suffix = defined $suffix ? $suffix : '';

    $pats = _pattern_list($pats);
    for my $line (@{ $lines || [] }) {
        for my $pat (@$pats) {
            next if !defined $pat;
            if (_line_matches($line, $pat)) {
              SKIP: {
                    skip "$name - $section - tests skipped due to $dry_run",
                         1 if $dry_run;
                    pass("$name - pattern \"$pat\" matches a line in "
                         . "$what$suffix");
                }
                undef $pat;
            }
        }
    }

    for my $pat (@$pats) {
        next if !defined $pat;
      SKIP: {
            skip "$name - $section - tests skipped due to $dry_run", 1
                if $dry_run;
            fail("$name - pattern \"$pat\" should match a line in "
                 . "$what$suffix");
        }
    }
}

# No pattern may match any line: one failure per matching line, and one
# pass for every pattern that matched nothing.
sub _check_log_lacks {
    my ($name, $section, $what, $pats, $lines, $dry_run, $suffix,
        $show_context) = @_;
    $suffix = defined $suffix ? $suffix : '';
    $lines ||= [];

    $pats = _pattern_list($pats);
    my %found;
    for my $i (0 .. $#$lines) {
        my $line = $lines->[$i];
        for my $pat (@$pats) {
            next if !defined $pat;
            next if !_line_matches($line, $pat);
            $found{$pat} = 1;

          SKIP: {
                skip "$name - $section - tests skipped due to $dry_run "
                     . "($line)", 1 if $dry_run;
                my $more = '';
                if ($show_context) {
                    for (my $j = $i + 1; $j < min($i + 10, @$lines - 1); $j++)
                    {
                        $more .= $lines->[$j];
                    }
                }
                fail("$name - pattern \"" . fmt_str($pat) . "\" should not "
                     . "match any line in $what but matches line \""
                     . fmt_str($line) . "\"$suffix"
                     . ($show_context ? "\n$more" : ''));
            }
        }
    }

    for my $pat (@$pats) {
        next if !defined $pat || $found{$pat};
      SKIP: {
            skip "$name - $section - tests skipped due to $dry_run", 1
                if $dry_run;
            pass("$name - pattern \"" . fmt_str($pat) . "\" does not match "
                 . "a line in $what$suffix");
        }
    }
}

sub check_error_log {
    my ($block, $res, $dry_run, $repeated_req_idx, $need_array) = @_;
    my $name = $block->name;
    my $lines;
    my $suffix = " (req $repeated_req_idx)";

    # Lines with these markers are reported as warnings unless the block
    # mentions them in error_log / no_error_log.
    my %warn_about = map { $_ => 1 } qw([alert [crit [emerg);

    my $grep_pats = $block->grep_error_log;
    my $grep_pat;
    if (defined $grep_pats) {
        $grep_pat = ref $grep_pats && ref $grep_pats eq 'ARRAY'
            ? $grep_pats->[$repeated_req_idx] : $grep_pats;
    } elsif (defined $block->grep_error_log_out) {
        bail_out("$name - No --- grep_error_log defined but "
                 . "--- grep_error_log_out is defined");
    }

    if (defined $grep_pat) {
        my $expected = $block->grep_error_log_out;
        if (!defined $expected) {
            bail_out("$name - No --- grep_error_log_out defined but "
                     . "--- grep_error_log is defined");
        }

        $expected = expand_env_in_text($expected, $name,
                                       $Test::Nginx::Util::RandPorts);
        if (ref $expected && ref $expected eq 'ARRAY') {
            $expected = $expected->[$repeated_req_idx];
        }

      SKIP: {
            skip "$name - error_log - tests skipped due to $dry_run", 1
                if $dry_run;

            $lines ||= error_log_data();

            # Concatenate the matched parts of the lines, one per line.
            my $matched = '';
            for my $line (@{ $lines || [] }) {
                if ((ref $grep_pat && $line =~ /$grep_pat/)
                    || $line =~ /\Q$grep_pat\E/)
                {
                    $matched .= "$&\n" if $& !~ /\n/;
                }
            }

            my $desc = "$name - grep_error_log_out$suffix";
            if (ref $expected eq 'Regexp') {
                like($matched, $expected, $desc);
            } elsif ($NoLongString) {
                is($matched, $expected, $desc);
            } else {
                Test::Nginx::Util::is_long_string($matched, $expected, $desc);
            }
        }
    }

    for my $section (qw(error_log no_error_log)) {
        my $pats = $block->$section;
        next if !defined $pats;

        for my $marker (keys %warn_about) {
            delete $warn_about{$marker} if value_contains($pats, $marker);
        }

        $lines ||= error_log_data();
        if ($section eq 'error_log') {
            _check_log_has($name, 'error_log', 'error.log', $pats, $lines,
                           $dry_run, $suffix);
        } else {
            _check_log_lacks($name, 'no_error_log', 'error.log', $pats,
                             $lines, $dry_run, $suffix, 1);
        }
    }

    if (!$dry_run && %warn_about) {
        $lines ||= error_log_data();
        for my $line (@{ $lines || [] }) {
            for my $marker (sort keys %warn_about) {
                if ($line =~ /\Q$marker\E\]/) {
                    warn "WARNING: $name - " . fmt_str($line) . "\n";
                }
            }
        }
    }

    for my $line (@{ $lines || [] }) {
        if ($line =~ /\bAssertion .*?failed\b/) {
            (my $l = $line) =~ s/\n\z//;
            fail("$name - $l\n");
        }
    }
}

sub check_access_log {
    my ($block, $dry_run, $repeated_req_idx) = @_;
    my $name = $block->name;
    my $suffix = " (req $repeated_req_idx)";
    my $lines;

    if (defined $block->access_log) {
        $lines ||= access_log_data();
        _check_log_has($name, 'access_log', 'access.log',
                       scalar($block->access_log), $lines, $dry_run,
                       $suffix);
    }

    if (defined $block->no_access_log) {
        $lines ||= access_log_data();
        _check_log_lacks($name, 'no_access_log', 'access.log',
                         scalar($block->no_access_log), $lines, $dry_run,
                         $suffix, 1);
    }
}

# "--- shutdown_error_log" / "--- no_shutdown_error_log" of a block are
# checked against what nginx logged while shutting down, i.e. when the next
# block (or the end of the test file) stops it.
sub check_shutdown_error_log {
    my ($block, $dry_run) = @_;
    my $name = $block->name;
    my $lines;

    if (defined $block->shutdown_error_log) {
        $lines ||= error_log_data();
        _check_log_has($name, 'shutdown_error_log', 'error.log',
                       scalar($block->shutdown_error_log), $lines,
                       $dry_run ? 'dry_run' : 0, '');

        for my $line (@{ $lines || [] }) {
            if ($line =~ /\bAssertion .*? failed\.$/) {
                (my $l = $line) =~ s/\n\z//;
                fail("$name - $l");
            }
        }
    }

    if (defined $block->no_shutdown_error_log) {
        $lines ||= error_log_data();
        _check_log_lacks($name, 'no_shutdown_error_log', 'error.log',
                         scalar($block->no_shutdown_error_log), $lines,
                         $dry_run ? 'dry_run' : 0, '', 0);
    }
}

1;
