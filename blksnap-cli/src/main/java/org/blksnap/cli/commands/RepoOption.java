package org.blksnap.cli.commands;

import java.nio.file.Path;
import java.time.Duration;

import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.cli.Converters;

import picocli.CommandLine.Option;

/** {@code -r/--repo DIR} and {@code --lock-wait} of the backup commands. */
public final class RepoOption {
    @Option(names = {"-r", "--repo"}, required = true, paramLabel = "DIR",
            description = "The backup repository: a directory ('backup create' makes it if it is new or empty).")
    Path repo;

    @Option(names = "--lock-wait", paramLabel = "DURATION", converter = Converters.Wait.class, defaultValue = "0",
            description = "How long to wait for the repository while another command holds it (e.g. 30s, 10m; "
                    + "default: fail at once with exit status 6). Backups, list, restore and verify share it; "
                    + "prune and forget need it alone.")
    Duration lockWait;

    LocalDirectoryStore store() {
        return new LocalDirectoryStore(repo);
    }
}
