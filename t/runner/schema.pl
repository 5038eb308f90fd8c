#!/usr/bin/perl
# Prints the module's database schema as SQL, taken from the migrations
# of ngx_collab_module/storage/ngx_collab_schema.c (the C string literals of
# ngx_collab_migrations[], one migration per array element), so that the
# runner's tests build the same tables the module does:
#
#   perl t/runner/schema.pl | sqlite3 test.db
use strict;
use warnings;

my $file = shift // 'ngx_collab_module/storage/ngx_collab_schema.c';
open my $fh, '<', $file or die "$file: $!\n";
local $/;
my $c = <$fh>;

$c =~ /ngx_collab_migrations\[\]\s*=\s*\{(.*?)\n\};/s
    or die "$file: no ngx_collab_migrations[]\n";
my $body = $1;

# comments out, then each element: adjacent literals until a top-level comma
$body =~ s{/\*.*?\*/}{}gs;

my (@migrations, $current);
while ($body =~ /\G\s*(?:"((?:[^"\\]|\\.)*)"|(,))/gc) {
    if (defined $2) {
        push @migrations, $current if defined $current;
        undef $current;
        next;
    }
    my $s = $1;
    $s =~ s/\\n/\n/g;
    $s =~ s/\\t/\t/g;
    $s =~ s/\\(["\\])/$1/g;
    $current .= $s;
}
push @migrations, $current if defined $current;
$body =~ /\G\s*$/gc or die "$file: cannot read the migrations\n";

print "PRAGMA journal_mode = WAL;\n";
print "BEGIN;\n";
print "$_\n" for @migrations;
printf "PRAGMA user_version = %d;\n", scalar @migrations;
print "COMMIT;\n";
