package org.blksnap.cli.commands;

import java.util.List;
import java.util.Map;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.SnapshotId;
import org.blksnap.api.SnapshotOwners;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code blksnap snapshot cleanup}. */
@Command(name = "cleanup", mixinStandardHelpOptions = true,
        description = {"Destroy the snapshots left behind by a blksnap that was killed (SIGKILL, a crash) before "
                + "it could destroy its own.",
            "",
            "'blksnap snapshot' and 'blksnap backup create' record which process owns each snapshot they take "
                    + "(pid and start time, in " + "/run/blksnap/owners). A snapshot whose owner no longer runs "
                    + "is destroyed; one whose owner runs, and one without a record (made with snapshot_create "
                    + "or by another tool), is left alone. 'backup create' does the same before it takes its "
                    + "snapshot."},
        footer = {"", "Examples:", "  blksnap snapshot cleanup", "  blksnap snapshot cleanup --json"})
public final class SnapshotCleanupCommand extends BaseCommand {
    @Mixin
    JsonOption json;

    @Mixin
    QuietOption quiet;

    @Override
    public Integer call() throws Exception {
        SnapshotOwners.Report r;
        try (BlkSnap blksnap = BlkSnap.open()) {
            r = SnapshotOwners.system().cleanup(blksnap);
        }
        if (json.json) {
            Map<String, Object> o = Output.record();
            o.put("destroyed", ids(r.destroyed()));
            o.put("owned", ids(r.owned()));
            o.put("unowned", ids(r.unowned()));
            new Output(out(), true).print(o);
        } else if (!quiet.quiet) {
            for (SnapshotId id : r.destroyed()) {
                out().println("destroyed " + id + " (its owner is gone)");
            }
            out().printf("destroyed %d; left %d with a running owner and %d without a record%n",
                    r.destroyed().size(), r.owned().size(), r.unowned().size());
            out().flush();
        }
        return 0;
    }

    private static List<String> ids(List<SnapshotId> ids) {
        return ids.stream().map(SnapshotId::toString).toList();
    }
}
