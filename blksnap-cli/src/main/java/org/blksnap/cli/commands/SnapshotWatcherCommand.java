package org.blksnap.cli.commands;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.SnapshotEvent;
import org.blksnap.api.SnapshotNotFoundException;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;
import org.blksnap.cli.Texts;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code blksnap snapshot_watcher}. */
@Command(name = "snapshot_watcher", mixinStandardHelpOptions = true,
        description = {"Print the events of a snapshot as they come, until the snapshot is destroyed "
                + "(then prints result=destroyed and exits 0) or the watcher is interrupted."},
        footer = {"", "Examples:", "  blksnap snapshot_watcher --id $id &",
            "  blksnap snapshot_watcher -i $id --json"})
public final class SnapshotWatcherCommand extends BaseCommand {
    private static final Duration POLL = Duration.ofSeconds(1);

    @Mixin
    IdOption id;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws Exception {
        Output output = new Output(out(), json.json);
        try (BlkSnap blksnap = BlkSnap.open()) {
            while (true) {
                Optional<SnapshotEvent> e;
                try {
                    e = blksnap.waitEvent(id.id, POLL);
                } catch (SnapshotNotFoundException gone) {
                    break;
                }
                if (e.isPresent()) {
                    output.print(Texts.event(e.get()));
                } else if (!blksnap.collect().contains(id.id)) {
                    // The wait itself may not tell a destroyed snapshot from a
                    // quiet one; the list of snapshots does.
                    break;
                }
            }
        }
        Map<String, Object> end = Output.record();
        end.put("result", "destroyed");
        end.put("id", id.id.toString());
        output.print(end);
        return 0;
    }
}
