#!/usr/bin/perl
# The built-ins the runtime script takes before a workflow runs are a
# bare list (ngx_collab_prelude.js) that ngx_collab_builtins.js names by
# a list of names in the same order: each name must be that of the
# built-in at its place (Object.prototype.hasOwnProperty is
# ObjectPrototypeHasOwnProperty, Map is MapCtor, the getter of
# Map.prototype's size ends in Size).

use strict;
use warnings;
use FindBin;
use Test::More;

my $dir = "$FindBin::Bin/../../ngx_collab_module/runner";

sub slurp {
    open my $fh, '<', $_[0] or die "$_[0]: $!\n";
    local $/;
    return <$fh>;
}

sub split_top {
    my ($text) = @_;
    my (@out, $cur, $depth);
    ($cur, $depth) = ('', 0);
    for my $ch (split //, $text) {
        $depth++ if $ch =~ /[(\[{]/;
        $depth-- if $ch =~ /[)\]}]/;
        if ($ch eq ',' && $depth == 0) {
            push @out, $cur;
            $cur = '';
        } else {
            $cur .= $ch;
        }
    }
    push @out, $cur if $cur =~ /\S/;
    s/\s+//g for @out;
    return @out;
}

my $prelude = slurp("$dir/ngx_collab_prelude.js");
my $builtins = slurp("$dir/ngx_collab_builtins.js");

my ($list) = $prelude =~ /const taken = \[(.*?)\n    \];/s;
my ($params) = $builtins =~ /const names = \[(.*?)\n    \];/s;
ok(defined $list, 'the runtime script has its list of built-ins');
ok(defined $params, 'ngx_collab_builtins.js names them');

my @values = split_top($list // '');
my @names = map { /^'(\w+)'$/ ? $1 : $_ } split_top($params // '');
is(scalar @values, scalar @names, '... as many names as built-ins');

sub cap { my ($s) = @_; return ucfirst $s; }

for my $i (0 .. $#values) {
    my ($v, $n) = ($values[$i], $names[$i] // '');
    my $want;

    if ($v =~ /^\w+$/) {
        $want = $v eq $n ? $n : "${v}Ctor";
    } elsif ($v =~ /^[\w.]+$/) {
        $want = join '', map { cap($_) } split /\./, $v;
    } elsif ($v =~ /,'(\w+)'\)\.get$/ || $v =~ /,Symbol\.(\w+)\)\.get$/) {
        my $end = cap($1);
        $want = $n =~ /\Q$end\E$/ ? $n : "...$end";
    }

    is($n, $want, "built-in $i ($v) is named $n");
}

done_testing;
