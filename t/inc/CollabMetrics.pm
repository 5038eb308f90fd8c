package CollabMetrics;

# Filters of a /metrics scrape for the blocks' response_body_filters (they
# are exported, so that blocks name them main::samples and so on):
# samples(PREFIX...) keeps the lines that start with one of the prefixes;
# positive() writes " >0" for a value above zero, for those that depend on
# timing or sizes; promtool() says whether "promtool check metrics"
# accepts the text.

use strict;
use warnings;

use Exporter qw(import);
use File::Temp qw(tempfile);

our @EXPORT = qw(samples positive promtool);

# the lines of a scrape that start with one of the prefixes
sub samples {
    my @prefixes = @_;
    return sub {
        my @lines = split /^/m, shift;
        return join '', grep {
            my $line = $_;
            grep { index($line, $_) == 0 } @prefixes;
        } @lines;
    };
}

# values above zero, for those that depend on timing or sizes
sub positive {
    my $text = shift;
    $text =~ s/ [1-9]\d*$/ >0/mg;
    return $text;
}

sub promtool {
    my $text = shift;
    my ($fh, $file) = tempfile();
    print $fh $text;
    close $fh;
    my $out = `promtool check metrics < $file 2>&1`;
    my $rc = $? >> 8;
    unlink $file;
    return $rc == 0 ? "promtool: ok\n" : "promtool: exit $rc: $out";
}

1;
