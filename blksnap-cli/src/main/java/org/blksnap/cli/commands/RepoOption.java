package org.blksnap.cli.commands;

import java.nio.file.Path;
import java.time.Duration;

import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.s3.S3Location;
import org.blksnap.backup.repo.s3.S3Options;
import org.blksnap.backup.repo.s3.S3Store;
import org.blksnap.cli.Converters;

import picocli.CommandLine.Option;

/** {@code -r/--repo DIR|s3:...}, {@code --lock-wait} and {@code --break-lock} of the backup commands. */
public final class RepoOption {
    @Option(names = {"-r", "--repo"}, required = true, paramLabel = "DIR|s3:...",
            description = "The backup repository: a directory ('backup create' makes it if it is new or empty), "
                    + "or s3:https://HOST[:PORT]/BUCKET[/PREFIX] on an S3-compatible service, or s3:BUCKET[/PREFIX] "
                    + "on AWS (credentials and region from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_REGION, "
                    + "~/.aws or the instance role).")
    String repo;

    @Option(names = "--lock-wait", paramLabel = "DURATION", converter = Converters.Wait.class, defaultValue = "0",
            description = "How long to wait for the repository while another command holds it (e.g. 30s, 10m; "
                    + "default: fail at once with exit status 6). Backups, list, restore and verify share it; "
                    + "prune and forget need it alone.")
    Duration lockWait;

    @Option(names = "--break-lock",
            description = "S3 only: remove every lock of the repository first, also ones that look live (a command "
                    + "on another host that is known to be gone). Locks of killed commands of this host, and "
                    + "locks without a heartbeat for 5 minutes, are removed without it.")
    boolean breakLock;

    /** @return the repository argument as given */
    String location() {
        return S3Location.isS3(repo) ? repo : Path.of(repo).toAbsolutePath().toString();
    }

    ChunkStore store() {
        if (S3Location.isS3(repo)) {
            return S3Store.connect(S3Location.parse(repo), S3Options.defaults().withBreakLock(breakLock));
        }
        if (breakLock) {
            throw new IllegalArgumentException("--break-lock is for S3 repositories: a local repository's lock "
                    + "is released by the system when its holder ends");
        }
        return new LocalDirectoryStore(Path.of(repo));
    }
}
