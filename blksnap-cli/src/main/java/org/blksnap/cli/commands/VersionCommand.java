package org.blksnap.cli.commands;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.Version;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;
import org.blksnap.cli.Texts;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code blksnap version}. */
@Command(name = "version", mixinStandardHelpOptions = true,
        description = "Print the version of the loaded blksnap kernel module.",
        footer = {"", "Examples:", "  blksnap version", "  blksnap version --json"})
public final class VersionCommand extends BaseCommand {
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws Exception {
        try (BlkSnap blksnap = BlkSnap.open()) {
            Version v = blksnap.version();
            if (json.json) {
                new Output(out(), true).print(Texts.version(v));
            } else {
                out().println(v);
                out().flush();
            }
        }
        return 0;
    }
}
