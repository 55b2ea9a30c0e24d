package org.blksnap.cli.commands;

import picocli.CommandLine.Option;

/** {@code -q/--quiet} of the commands that report progress or results. */
public final class QuietOption {
    @Option(names = {"-q", "--quiet"}, description = "Print nothing but errors (and the --json result, if asked "
            + "for): no progress, no report.")
    public boolean quiet;
}
