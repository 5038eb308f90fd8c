#!/usr/bin/perl
# Writes a text file as a C string constant, for the runner's runtime
# script:  perl util/embed.pl NAME < file.js > file.h
use strict;
use warnings;

my $name = shift or die "usage: embed.pl NAME < input > output\n";
local $/;
my $text = <STDIN>;

print "/* generated from the runtime script by util/embed.pl */\n\n";
print "static const char  $name\[\] =\n";

for my $line (split /(?<=\n)/, $text) {
    $line =~ s/\\/\\\\/g;
    $line =~ s/"/\\"/g;
    $line =~ s/\n/\\n/g;
    $line =~ s/\t/\\t/g;
    print "    \"$line\"\n";
}

print "    ;\n";
