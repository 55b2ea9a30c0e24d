package org.blksnap.backup.hooks;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Where the hooks are and how they are run.
 *
 * @param dir       the directory of executables, run in name order
 * @param timeout   how long one hook may run before it and its children are killed
 * @param onFailure what a failing pre-freeze hook does
 * @param required  true if a missing directory is an error (given explicitly), false if it means no hooks
 *                  (the default directory)
 */
public record HookSettings(Path dir, Duration timeout, HookFailurePolicy onFailure, boolean required) {
    /** The directory used when none is given. */
    public static final Path DEFAULT_DIR = Path.of("/etc/blksnap/hooks.d");
    /** A hook's time when none is given: enough to checkpoint a database, short enough to notice a hang. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    /** Checks the values. */
    public HookSettings {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(onFailure, "onFailure");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the hook timeout must be positive: " + timeout);
        }
    }

    /** @return the default directory, timeout and policy (abort); a missing directory means no hooks */
    public static HookSettings defaults() {
        return new HookSettings(DEFAULT_DIR, DEFAULT_TIMEOUT, HookFailurePolicy.ABORT, false);
    }
}
