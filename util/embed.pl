#!/usr/bin/perl
# Writes text files as C string constants, for the runner's runtime
# scripts:  perl util/embed.pl NAME=FILE... > file.h
use strict;
use warnings;

@ARGV or die "usage: embed.pl NAME=FILE... > output\n";

print "/* generated from the runtime scripts by util/embed.pl */\n";

for my $arg (@ARGV) {
    my ($name, $file) = split /=/, $arg, 2;
    open my $fh, '<', $file or die "embed.pl: $file: $!\n";
    local $/;
    my $text = <$fh>;

    print "\nstatic const char  $name\[\] =\n";

    for my $line (split /(?<=\n)/, $text) {
        $line =~ s/\\/\\\\/g;
        $line =~ s/"/\\"/g;
        $line =~ s/\n/\\n/g;
        $line =~ s/\t/\\t/g;
        print "    \"$line\"\n";
    }

    print "    ;\n";
}
