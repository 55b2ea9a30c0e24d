package org.blksnap.cli.commands;

import org.blksnap.api.BlkSnap;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code blksnap snapshot_destroy}. */
@Command(name = "snapshot_destroy", mixinStandardHelpOptions = true,
        description = "Destroy a snapshot: its images vanish and its storage is released. Tracking goes on.",
        footer = {"", "Examples:", "  blksnap snapshot_destroy --id 0d0b1f9e-6c63-4bd3-9a57-0b9f3c1e5a77"})
public final class SnapshotDestroyCommand extends BaseCommand {
    @Mixin
    IdOption id;

    @Override
    public Integer call() throws Exception {
        try (BlkSnap blksnap = BlkSnap.open()) {
            blksnap.destroy(id.id);
        }
        return 0;
    }
}
