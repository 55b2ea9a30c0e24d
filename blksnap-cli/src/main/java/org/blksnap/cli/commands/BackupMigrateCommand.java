package org.blksnap.cli.commands;

import java.util.Map;

import org.blksnap.api.Sizes;
import org.blksnap.backup.repo.Format1Migration;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;
import org.blksnap.cli.UsageException;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code blksnap backup migrate}. */
@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = {"Convert a format 1 repository (one file per chunk, JSON manifests; blksnap before pack "
                + "files) in place to format 2, keeping every backup: its id, tag, times, data and place in the "
                + "chain of incrementals, so the next 'backup create' is still an incremental.",
            "",
            "The chunks are copied into pack files as they are (not recompressed), each checked against its "
                    + "checksum first, so the repository's filesystem needs about as much free space again as the "
                    + "chunks take; the old files are removed at the end. A damaged chunk or manifest stops the "
                    + "migration before anything changes. A migration that is stopped (killed, power lost) leaves "
                    + "the format 1 repository as it was, or, past its last step, the format 2 one: run it again. "
                    + "A repository that is already format 2 is left as it is. Needs the repository alone (see "
                    + "--lock-wait); the result is not encrypted (format 1 never was)."},
        footer = {"", "Examples:", "  blksnap backup migrate --repo /backup/vdb"})
public final class BackupMigrateCommand extends BaseCommand {
    @Mixin
    RepoOption repo;

    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws Exception {
        if (repo.isS3()) {
            throw new UsageException("format 1 repositories are local directories: an s3: repository is format 2 "
                    + "already");
        }
        Format1Migration.Result r = new Format1Migration(new LocalDirectoryStore(repo.path()))
                .migrate(repo.lockWait);
        if (json.json) {
            Map<String, Object> o = Output.record();
            o.put("migrated", !r.alreadyFormat2());
            o.put("backups", r.backups());
            o.put("chunks", r.chunks());
            o.put("bytes", r.bytes());
            o.put("packs", r.packs());
            o.put("unreferenced_chunks_dropped", r.unreferenced());
            new Output(out(), true).print(o);
        } else if (r.alreadyFormat2()) {
            out().println(repo.location() + " is a format 2 repository already: nothing to migrate");
        } else {
            out().printf("migrated %s to format 2: %d backups, %d chunks (%s) in %d pack files%s%n", repo.location(),
                    r.backups(), r.chunks(), Sizes.format(r.bytes()), r.packs(), r.unreferenced() == 0 ? ""
                            : "; " + r.unreferenced() + " chunk files no backup named were dropped");
        }
        out().flush();
        return 0;
    }
}
