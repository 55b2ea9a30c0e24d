package org.blksnap.cli.commands;

import org.blksnap.backup.engine.MaxUnused;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/** {@code --max-unused} of the commands that collect garbage (prune, forget): restic's option and meaning. */
public final class MaxUnusedOption {
    @Option(names = "--max-unused", paramLabel = "LIMIT", defaultValue = "5%", converter = Limit.class,
            description = "Unused space to tolerate in pack files that also hold needed chunks: N%% of the pack "
                    + "bytes (default: 5%%), a size (e.g. 500M), or unlimited. Past it, the packs "
                    + "with the largest unused share are rewritten with their needed chunks only (checked, not "
                    + "recompressed), and the old ones deleted; 0%% rewrites every such pack, unlimited none.")
    public MaxUnused maxUnused;

    /** The words --max-unused takes. */
    static final class Limit implements ITypeConverter<MaxUnused> {
        @Override
        public MaxUnused convert(String value) {
            return MaxUnused.parse(value);
        }
    }
}
