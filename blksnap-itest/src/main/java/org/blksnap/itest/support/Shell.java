package org.blksnap.itest.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Runs the guest's own tools (losetup, mkfs, mount, ...) for the tests. */
public final class Shell {
    /** Long enough for mkfs or fsck of a 1 GiB disk under TCG emulation. */
    private static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

    private Shell() {
    }

    /** Output (stdout and stderr merged) and exit status of a command. */
    public record Result(int status, String output) {
        public boolean ok() {
            return status == 0;
        }
    }

    /** Runs a command; never throws for a non-zero status, only when it cannot run or hangs. */
    public static Result run(String... command) throws IOException {
        return run(DEFAULT_TIMEOUT, command);
    }

    public static Result run(Duration timeout, String... command) throws IOException {
        // Output goes to a file, not a pipe: a chatty command cannot block on a full
        // pipe, and a hung one still runs into the timeout.
        Path log = Files.createTempFile("itest-cmd-", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IOException("hung: " + String.join(" ", command));
            }
            return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** Runs a command that must succeed and returns its output, stripped. */
    public static String sh(String... command) throws IOException {
        Result r = run(command);
        if (!r.ok()) {
            throw new IOException(String.join(" ", command) + " failed (" + r.status() + "): " + r.output());
        }
        return r.output().strip();
    }
}
