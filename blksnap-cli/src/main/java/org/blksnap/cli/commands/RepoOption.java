package org.blksnap.cli.commands;

import java.nio.file.Path;

import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.cli.UsageException;

import picocli.CommandLine.Option;

/** {@code -r/--repo DIR} of the backup commands, defaulting to {@code $BLKSNAP_REPO}. */
public final class RepoOption {
    /** The environment variable that names the repository when --repo is not given. */
    public static final String ENV = "BLKSNAP_REPO";

    @Option(names = {"-r", "--repo"}, paramLabel = "DIR", defaultValue = "${env:" + ENV + "}",
            description = "The backup repository: a directory ('backup create' makes it if it is new or empty). "
                    + "Default: $" + ENV + ".")
    Path repo;

    /** @return the repository directory */
    Path path() {
        if (repo == null || repo.toString().isEmpty()) {
            throw new UsageException("missing --repo DIR (or set " + ENV + ")");
        }
        return repo;
    }

    LocalDirectoryStore store() {
        return new LocalDirectoryStore(path());
    }
}
