package org.blksnap.cli.commands;

import java.nio.file.Path;
import java.time.Duration;

import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Secret;
import org.blksnap.backup.repo.s3.S3Location;
import org.blksnap.backup.repo.s3.S3Options;
import org.blksnap.backup.repo.s3.S3Store;
import org.blksnap.cli.Converters;
import org.blksnap.cli.UsageException;

import picocli.CommandLine.Option;

/**
 * {@code -r/--repo DIR|s3:...} (defaulting to {@code $BLKSNAP_REPO}), {@code --lock-wait},
 * {@code --break-lock} and the password options of the backup commands.
 */
public final class RepoOption {
    /** The environment variable that names the repository when --repo is not given. */
    public static final String ENV = "BLKSNAP_REPO";

    @Option(names = {"-r", "--repo"}, paramLabel = "DIR|s3:...", defaultValue = "${env:" + ENV + "}",
            description = "The backup repository: a directory ('backup create' makes it if it is new or empty), "
                    + "or s3:https://HOST[:PORT]/BUCKET[/PREFIX] on an S3-compatible service, or s3:BUCKET[/PREFIX] "
                    + "on AWS (credentials and region from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_REGION, "
                    + "~/.aws or the instance role). Default: $" + ENV + ".")
    String repo;

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

    @Option(names = "--password-file", paramLabel = "FILE",
            description = "Read the password from the first line of FILE (keep it owner-only), instead of $"
                    + Secrets.PASSWORD_FILE_ENV + ": for job files and scripts.")
    Path passwordFile;

    @Option(names = "--key-file", paramLabel = "FILE",
            description = "Open the encrypted repository with a key file (at least 32 random bytes, e.g. from "
                    + "head -c 64 /dev/urandom) instead of a password.")
    Path keyFile;

    @Option(names = "--break-lock",
            description = "S3 only: remove every lock of the repository first, also ones that look live (a command "
                    + "on another host that is known to be gone). Locks of killed commands of this host, and "
                    + "locks without a heartbeat for 5 minutes, are removed without it.")
    boolean breakLock;

    /** @return the repository argument as given */
    private String given() {
        if (repo == null || repo.isEmpty()) {
            throw new UsageException("missing --repo DIR (or set " + ENV + ")");
        }
        return repo;
    }

    /** @return true for an s3: repository */
    boolean isS3() {
        return S3Location.isS3(given());
    }

    /** @return the repository for messages: the s3: URL as given, or the directory's absolute path */
    String location() {
        return isS3() ? repo : Path.of(repo).toAbsolutePath().toString();
    }

    /** @return the directory of a local repository; null for S3 */
    Path path() {
        return isS3() ? null : Path.of(given());
    }

    /** @return a new connection to the repository's store (the caller closes it, or the repository does) */
    ChunkStore store() {
        if (isS3()) {
            return S3Store.connect(S3Location.parse(repo), S3Options.defaults().withBreakLock(breakLock));
        }
        if (breakLock) {
            throw new IllegalArgumentException("--break-lock is for S3 repositories: a local repository's lock "
                    + "is released by the system when its holder ends");
        }
        return new LocalDirectoryStore(path());
    }

    /** @return the repository's password or key file, asked only if the repository is encrypted */
    Secret.Source secrets() {
        return Secrets.source(keyFile, passwordFile, Secrets.PASSWORD_FILE_ENV, passwordCommand,
                "Password for " + location(), false);
    }

    /** @return the same, asked twice on a terminal: for a repository being created */
    Secret.Source newSecrets() {
        return Secrets.source(keyFile, passwordFile, Secrets.PASSWORD_FILE_ENV, passwordCommand,
                "New password for " + location(), true);
    }
}
