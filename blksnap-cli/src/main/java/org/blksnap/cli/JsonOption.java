package org.blksnap.cli;

import picocli.CommandLine.Option;

/** {@code -j/--json} for every query command. */
public final class JsonOption {
    @Option(names = {"-j", "--json"}, description = "Print the result as JSON.")
    public boolean json;
}
