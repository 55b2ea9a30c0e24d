package org.blksnap.cli.commands;

import java.util.Map;

import org.blksnap.api.Sizes;
import org.blksnap.backup.engine.Pruner;
import org.blksnap.backup.repo.Repository;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code blksnap backup prune}. */
@Command(name = "prune", mixinStandardHelpOptions = true,
        description = {"Remove old backups, then the chunks no remaining backup needs (from the index) and the pack "
                + "files that hold none of them.",
            "",
            "Kept: the newest --keep-last backups, and the newest backup of each of the --keep-daily most recent "
                    + "days that have one. Incrementals need no parent: every backup names all its chunks, so "
                    + "any backup may go. Needs the repository alone (no create, list or restore meanwhile: see "
                    + "--lock-wait); refuses to remove anything if a backup's summary or manifest is damaged."},
        footer = {"", "Examples:", "  blksnap backup prune --repo /backup/vdb --keep-last 7",
            "  blksnap backup prune -r /backup/vdb --keep-last 3 --keep-daily 14 --dry-run"})
public final class BackupPruneCommand extends BaseCommand {
    @Mixin
    RepoOption repo;

    @Option(names = "--keep-last", paramLabel = "N", defaultValue = "0", description = "Keep the N newest backups.")
    int keepLast;

    @Option(names = "--keep-daily", paramLabel = "N", defaultValue = "0",
            description = "Keep the newest backup of each of the N most recent days with backups.")
    int keepDaily;

    @Option(names = "--dry-run", description = "Only print what would be removed.")
    boolean dryRun;

    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws Exception {
        if (keepLast < 0 || keepDaily < 0 || keepLast + keepDaily == 0) {
            throw new IllegalArgumentException("give --keep-last N and/or --keep-daily N, at least one of them 1 "
                    + "or more");
        }
        Pruner.Result r;
        try (Repository repository = Repository.open(repo.store(),
                org.blksnap.backup.repo.ChunkStore.LockMode.EXCLUSIVE, repo.lockWait, repo.secrets())) {
            r = new Pruner(repository).prune(keepLast, keepDaily, dryRun);
        }
        if (json.json) {
            Map<String, Object> o = Output.record();
            o.put("dry_run", dryRun);
            o.put("removed", r.removed());
            o.put("kept", r.kept());
            o.put("chunks_removed", r.chunksRemoved());
            o.put("bytes_freed", r.bytesFreed());
            new Output(out(), true).print(o);
        } else {
            for (String id : r.removed()) {
                out().println((dryRun ? "would remove " : "removed ") + id);
            }
            out().printf("%s %d backups, kept %d; %d unreferenced chunks dropped (%s of packs freed)%n",
                    dryRun ? "would remove" : "removed", r.removed().size(), r.kept().size(), r.chunksRemoved(),
                    Sizes.format(r.bytesFreed()));
            out().flush();
        }
        return 0;
    }
}
