package org.blksnap.cli.commands;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.blksnap.api.Sizes;
import org.blksnap.backup.engine.RestoreEngine;
import org.blksnap.backup.engine.RestoreTarget;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.Repository;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code blksnap backup restore}. */
@Command(name = "restore", mixinStandardHelpOptions = true,
        description = {"Write one device of a backup to a block device or a file.",
            "",
            "The target is either an existing block device or a regular file outside /dev; anything else (a "
                    + "character device such as /dev/null, a FIFO, a directory, a name under /dev that is not a "
                    + "block device) is refused before anything is written. A symbolic link is followed only to "
                    + "a block device (the /dev/disk/by-id names).",
            "",
            "A block device must be at least as large as the backed-up device; it is opened exclusively, so it "
                    + "must not be mounted or in use, and every byte is written. A file is created sparse "
                    + "(all-zero chunks become holes) and appears under its name only when complete; an "
                    + "existing file is replaced only with --force."},
        footer = {"", "Examples:",
            "  blksnap backup restore latest --repo /backup/vdb --to /dev/vdc --verify",
            "  blksnap backup restore 20261123-101500-3fa2 -r /backup/host --device /dev/vdc --to /tmp/vdc.img"})
public final class BackupRestoreCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "BACKUP", description = "Backup id as shown by 'backup list', or latest.")
    String backup;

    @Mixin
    RepoOption repo;

    @Option(names = {"-d", "--device"}, paramLabel = "NAME",
            description = "The device of the backup to restore, as it was given to create (needed when the "
                    + "backup holds several).")
    String device;

    @Option(names = "--to", required = true, paramLabel = "DEVICE|FILE", description = "Where to write it.")
    Path target;

    @Option(names = "--force", description = "Replace the file --to names if it exists.")
    boolean force;

    @Option(names = "--verify", description = "Read the target back with O_DIRECT (from the disk, not the page "
            + "cache) and compare every chunk with the backup.")
    boolean verify;

    @Option(names = "--threads", paramLabel = "N", description = "Threads (default: one per core).")
    Integer threads;

    @Option(names = "--ignore-errors", description = "Write a chunk that is missing or damaged in the repository "
            + "as zeros and go on; every such byte range is named on stderr and the exit status is 1.")
    boolean ignoreErrors;

    @Mixin
    JsonOption json;

    @Mixin
    QuietOption quiet;

    @Override
    public Integer call() throws Exception {
        RestoreTarget to = RestoreTarget.of(target, force);
        try (Repository r = Repository.open(repo.store(), ChunkStore.LockMode.SHARED, repo.lockWait,
                repo.secrets())) {
            List<String> warnings = new java.util.ArrayList<>();
            Manifest m = "latest".equals(backup) ? r.latestManifest(warnings) : r.manifest(backup);
            for (String w : warnings) {
                note("warning: " + w);
            }
            Manifest.DeviceImage image = RestoreEngine.select(m, device);
            int n = threads == null ? Runtime.getRuntime().availableProcessors() : Math.max(1, threads);
            RestoreEngine.Result result = new RestoreEngine(r, n, progress("bytes", quiet.quiet))
                    .restore(m, image, to, verify, ignoreErrors);
            for (String l : result.lost()) {
                note("lost: " + l);
            }
            if (json.json) {
                Map<String, Object> o = Output.record();
                o.put("backup", m.id());
                o.put("device", image.name());
                o.put("target", target.toString());
                o.put("size", image.sizeBytes());
                o.put("bytes_written", result.bytesWritten());
                o.put("verified", result.verified());
                o.put("lost", result.lost());
                o.put("seconds", result.elapsed().toMillis() / 1000.0);
                new Output(out(), true).print(o);
            } else if (!quiet.quiet) {
                out().printf("restored %s of backup %s to %s: %s (%s written)%s in %.1f s%n", image.name(), m.id(),
                        target, Sizes.format(image.sizeBytes()), Sizes.format(result.bytesWritten()),
                        result.verified() ? ", verified" : "", result.elapsed().toMillis() / 1000.0);
                if (!result.lost().isEmpty()) {
                    out().printf("%d chunks could not be read and were written as zeros%n", result.lost().size());
                }
                out().flush();
            }
            return result.lost().isEmpty() ? 0 : org.blksnap.cli.ExitCodes.FAILURE;
        }
    }
}
