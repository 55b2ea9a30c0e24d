package org.blksnap.cli.commands;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.blksnap.api.Sizes;
import org.blksnap.backup.repo.BackupSummary;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Repository;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code blksnap backup list}. */
@Command(name = "list", mixinStandardHelpOptions = true,
        description = {"List the backups of a repository, oldest first: id, time of the snapshot, tag, and per "
                + "device its size, whether it was full or incremental and how much was read.",
            "",
            "Only each backup's small summary is read, never its chunk list, so listing costs the same for any "
                    + "device size. A summary that cannot be read is skipped, and named on stderr."},
        footer = {"", "Examples:", "  blksnap backup list --repo /backup/vdb",
            "  blksnap backup list -r /backup/vdb --json | jq -r '.backups[-1].id'"})
public final class BackupListCommand extends BaseCommand {
    @Mixin
    RepoOption repo;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws Exception {
        Repository.Listing listing;
        try (Repository r = Repository.open(repo.store(), ChunkStore.LockMode.SHARED, repo.lockWait,
                repo.secrets())) {
            listing = r.summaries();
        }
        for (String w : listing.warnings()) {
            note("warning: " + w);
        }
        List<BackupSummary> all = listing.backups();
        if (json.json) {
            List<Map<String, Object>> list = new ArrayList<>();
            for (BackupSummary m : all) {
                Map<String, Object> o = Output.record();
                o.put("id", m.id());
                o.put("started", m.started());
                o.put("finished", m.finished());
                o.put("tag", m.tag());
                o.put("tool_version", m.toolVersion());
                o.put("chunk_size", m.chunkSize());
                List<Map<String, Object>> ds = new ArrayList<>();
                for (BackupSummary.DeviceSummary d : m.devices()) {
                    Map<String, Object> x = Output.record();
                    x.put("device", d.name());
                    x.put("size", d.sizeBytes());
                    x.put("mode", d.mode());
                    x.put("parent", d.parent());
                    x.put("generation_id", d.generationId());
                    x.put("changes_number", d.changesNumber());
                    x.put("bytes_read", d.bytesRead());
                    x.put("bytes_stored", d.bytesStored());
                    ds.add(x);
                }
                o.put("devices", ds);
                list.add(o);
            }
            new Output(out(), true).print(Map.of("backups", list, "warnings", listing.warnings()));
            return 0;
        }
        if (all.isEmpty()) {
            out().println("no backups in " + repo.location());
            out().flush();
            return 0;
        }
        String format = "%-22s %-20s %-12s %s%n";
        out().printf(format, "ID", "STARTED (UTC)", "TAG", "DEVICES");
        for (BackupSummary m : all) {
            StringBuilder devs = new StringBuilder();
            for (BackupSummary.DeviceSummary d : m.devices()) {
                devs.append(devs.isEmpty() ? "" : ", ").append(d.name()).append(' ').append(Sizes.format(d.sizeBytes()))
                        .append(' ').append(d.mode()).append(" (read ").append(Sizes.format(d.bytesRead()))
                        .append(')');
            }
            out().printf(format, m.id(), m.started().replace('T', ' ').replaceAll("\\.\\d+Z$", "Z"),
                    m.tag() == null ? "-" : m.tag(), devs);
        }
        out().flush();
        return 0;
    }
}
