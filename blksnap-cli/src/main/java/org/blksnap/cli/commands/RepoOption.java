package org.blksnap.cli.commands;

import java.nio.file.Path;
import java.time.Duration;

import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Secret;
import org.blksnap.cli.Converters;
import org.blksnap.cli.UsageException;

import picocli.CommandLine.Option;

/**
 * {@code -r/--repo DIR} (defaulting to {@code $BLKSNAP_REPO}), {@code --lock-wait} and the
 * password options of the backup commands.
 */
public final class RepoOption {
    /** The environment variable that names the repository when --repo is not given. */
    public static final String ENV = "BLKSNAP_REPO";

    @Option(names = {"-r", "--repo"}, paramLabel = "DIR", defaultValue = "${env:" + ENV + "}",
            description = "The backup repository: a directory ('backup create' makes it if it is new or empty). "
                    + "Default: $" + ENV + ".")
    Path repo;

    @Option(names = "--lock-wait", paramLabel = "DURATION", converter = Converters.Wait.class, defaultValue = "0",
            description = "How long to wait for the repository while another command holds it (e.g. 30s, 10m; "
                    + "default: fail at once with exit status 6). Backups, list, restore and verify share it; "
                    + "prune and forget need it alone.")
    Duration lockWait;

    @Option(names = "--password-command", paramLabel = "COMMAND",
            description = "A command (run with /bin/sh -c) that prints the repository's password on its first "
                    + "line. Without it the password comes from the file named by $" + Secrets.PASSWORD_FILE_ENV
                    + ", else from a prompt on the terminal; never from the command line.")
    String passwordCommand;

    @Option(names = "--key-file", paramLabel = "FILE",
            description = "Open the encrypted repository with a key file (at least 32 random bytes, e.g. from "
                    + "head -c 64 /dev/urandom) instead of a password.")
    Path keyFile;

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

    /** @return the repository's password or key file, asked only if the repository is encrypted */
    Secret.Source secrets() {
        return Secrets.source(keyFile, Secrets.PASSWORD_FILE_ENV, passwordCommand, "Password for " + path(), false);
    }

    /** @return the same, asked twice on a terminal: for a repository being created */
    Secret.Source newSecrets() {
        return Secrets.source(keyFile, Secrets.PASSWORD_FILE_ENV, passwordCommand, "New password for " + path(),
                true);
    }
}
