package org.blksnap.cli.commands;

import java.util.List;
import java.util.Map;

import org.blksnap.backup.engine.Verifier;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.Repository;
import org.blksnap.cli.ExitCodes;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code blksnap backup verify}. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Check that every chunk a backup (default: every backup) needs is in the repository and "
                + "intact. Without --read-data no chunk data is read: every chunk must be in the index and every "
                + "pack holding one must be there and long enough. With it, every chunk is read, checked against "
                + "its CRC32C, decompressed and its data hashed (SHA-256) against its id.",
            "",
            "Every problem is printed on its own line, naming the chunk and a backup that needs it; the exit "
                    + "status is then 1."},
        footer = {"", "Examples:", "  blksnap backup verify --repo /backup/vdb",
            "  blksnap backup verify latest -r /backup/vdb --read-data --json"})
public final class BackupVerifyCommand extends BaseCommand {
    @Parameters(index = "0", arity = "0..1", paramLabel = "BACKUP",
            description = "Backup id as shown by 'backup list', or latest (default: all backups).")
    String backup;

    @Mixin
    RepoOption repo;

    @Option(names = "--read-data", description = "Read, decompress and hash every chunk.")
    boolean readData;

    @Mixin
    JsonOption json;

    @Mixin
    QuietOption quiet;

    @Override
    public Integer call() throws Exception {
        Verifier.Report report;
        try (Repository r = Repository.open(repo.store(), ChunkStore.LockMode.SHARED, repo.lockWait,
                repo.secrets())) {
            List<Manifest> which = backup == null ? r.manifests() : List.of(r.manifest(backup));
            report = new Verifier(r, Runtime.getRuntime().availableProcessors(),
                    progress("chunks", quiet.quiet)).verify(which, readData);
        }
        if (json.json) {
            Map<String, Object> o = Output.record();
            o.put("backups", report.backups());
            o.put("chunks", report.chunks());
            o.put("read_data", readData);
            o.put("problems", report.problems());
            o.put("ok", report.clean());
            new Output(out(), true).print(o);
        } else {
            for (String p : report.problems()) {
                out().println(p);
            }
            if (!quiet.quiet) {
                out().printf("%s: %d backups, %d chunks %s, %d problems%n", report.clean() ? "ok" : "FAILED",
                    report.backups(), report.chunks(), readData ? "decompressed and hashed" : "checked",
                    report.problems().size());
            }
            out().flush();
        }
        return report.clean() ? 0 : ExitCodes.FAILURE;
    }
}
