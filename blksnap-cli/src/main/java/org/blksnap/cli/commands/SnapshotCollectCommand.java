package org.blksnap.cli.commands;

import java.util.List;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.SnapshotId;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code blksnap snapshot_collect}. */
@Command(name = "snapshot_collect", mixinStandardHelpOptions = true,
        description = "Print the ids of all snapshots, one id=UUID line each.",
        footer = {"", "Examples:", "  blksnap snapshot_collect", "  blksnap snapshot_collect --json"})
public final class SnapshotCollectCommand extends BaseCommand {
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws Exception {
        List<SnapshotId> ids;
        try (BlkSnap blksnap = BlkSnap.open()) {
            ids = blksnap.collect();
        }
        List<String> text = ids.stream().map(SnapshotId::toString).toList();
        new Output(out(), json.json).printList(json.json ? "snapshots" : "id", text);
        return 0;
    }
}
