package org.blksnap.cli.commands;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.blksnap.api.Sizes;
import org.blksnap.backup.engine.Pruner;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Repository;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code blksnap backup forget}. */
@Command(name = "forget", mixinStandardHelpOptions = true,
        description = {"Remove the given backups, then the chunks and pack files no remaining backup needs, and "
                + "rewrite partly unused packs past --max-unused, as 'backup prune' does.",
            "",
            "Any backup may go, incrementals included: every backup names all its chunks. A backup whose "
                    + "summary is damaged can be forgotten by its id. Needs the repository alone (see "
                    + "--lock-wait)."},
        footer = {"", "Examples:", "  blksnap backup forget 20261123-101500-3fa2 --repo /backup/vdb"})
public final class BackupForgetCommand extends BaseCommand {
    @Parameters(arity = "1..*", paramLabel = "BACKUP", description = "Backup ids as shown by 'backup list'.")
    List<String> backups = new ArrayList<>();

    @Mixin
    RepoOption repo;

    @Mixin
    MaxUnusedOption maxUnused;

    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws Exception {
        Pruner.Garbage g;
        try (Repository r = Repository.open(repo.store(), ChunkStore.LockMode.EXCLUSIVE, repo.lockWait,
                repo.secrets())) {
            g = new Pruner(r).forget(backups, maxUnused.maxUnused);
        }
        if (json.json) {
            Map<String, Object> o = Output.record();
            o.put("removed", backups);
            o.put("chunks_removed", g.chunksRemoved());
            o.put("packs_removed", g.packsRemoved());
            o.put("packs_repacked", g.packsRepacked());
            o.put("chunks_copied", g.chunksCopied());
            o.put("bytes_freed", g.bytesFreed());
            new Output(out(), true).print(o);
        } else {
            for (String id : backups) {
                out().println("removed " + id);
            }
            out().printf("%d unreferenced chunks dropped, %d pack files removed%s (%s freed)%n", g.chunksRemoved(),
                    g.packsRemoved(), BackupPruneCommand.repacked(g), Sizes.format(g.bytesFreed()));
            out().flush();
        }
        return 0;
    }
}
