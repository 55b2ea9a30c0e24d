package org.blksnap.cli.commands;

import org.blksnap.api.BlkSnap;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code blksnap snapshot_take}. */
@Command(name = "snapshot_take", mixinStandardHelpOptions = true,
        description = {"Take a snapshot: all its devices at one point in time. Their images appear as "
                + "/dev/blksnap-MAJOR-MINOR (see snapshot_info)."},
        footer = {"", "Examples:", "  blksnap snapshot_take --id $id",
            "  blksnap snapshot_info --device /dev/vdb --field image"})
public final class SnapshotTakeCommand extends BaseCommand {
    @Mixin
    IdOption id;

    @Override
    public Integer call() throws Exception {
        try (BlkSnap blksnap = BlkSnap.open()) {
            blksnap.take(id.id);
        }
        return 0;
    }
}
