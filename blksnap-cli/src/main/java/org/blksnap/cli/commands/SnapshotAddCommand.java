package org.blksnap.cli.commands;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.Snapshot;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code blksnap snapshot_add}. */
@Command(name = "snapshot_add", mixinStandardHelpOptions = true,
        description = {"Add a device to a created, not yet taken snapshot. The blksnap filter is attached "
                + "first if needed."},
        footer = {"", "Examples:", "  blksnap snapshot_add --id $id --device /dev/vdb",
            "  id=$(blksnap snapshot_create --file /var/tmp --limit 1G) &&",
            "    blksnap snapshot_add -i $id -d /dev/vdb && blksnap snapshot_take -i $id"})
public final class SnapshotAddCommand extends BaseCommand {
    @Mixin
    IdOption id;
    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws Exception {
        try (BlkSnap blksnap = BlkSnap.open()) {
            Snapshot.of(blksnap, id.id).add(device.device);
        }
        return 0;
    }
}
