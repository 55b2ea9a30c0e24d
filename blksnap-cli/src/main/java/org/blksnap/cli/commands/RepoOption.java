package org.blksnap.cli.commands;

import java.nio.file.Path;

import org.blksnap.backup.repo.LocalDirectoryStore;

import picocli.CommandLine.Option;

/** {@code -r/--repo DIR} of the backup commands. */
public final class RepoOption {
    @Option(names = {"-r", "--repo"}, required = true, paramLabel = "DIR",
            description = "The backup repository: a directory ('backup create' makes it if it is new or empty).")
    Path repo;

    LocalDirectoryStore store() {
        return new LocalDirectoryStore(repo);
    }
}
