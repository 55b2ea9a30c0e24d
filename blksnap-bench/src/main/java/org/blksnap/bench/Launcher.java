package org.blksnap.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The project's bin/blksnap, run as a user runs it: the NBD scenarios
 * measure the commands ({@code serve}, {@code backup mount}), not a server
 * built inside the bench's JVM.
 */
final class Launcher {
    private static final long TIMEOUT_MINUTES = 10;

    private Launcher() {
    }

    /** @return bin/blksnap of the tree the bench's jar was built in (blksnap-bench/target/x.jar) */
    static Path path() throws IOException {
        try {
            Path jar = Path.of(Launcher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path launcher = jar.toAbsolutePath().getParent().getParent().getParent().resolve("bin/blksnap");
            if (!Files.isExecutable(launcher)) {
                throw new IOException(launcher + " is not executable: the bench runs from a built tree");
            }
            return launcher;
        } catch (URISyntaxException e) {
            throw new IOException("cannot locate the bench's jar", e);
        }
    }

    private static ProcessBuilder builder(List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(path().toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        // As a user runs it, with the AOT cache 'make java' wrote, but no
        // class-data-sharing archive dumped at exit: under TCG that alone
        // takes a minute. (With BLKSNAP_CDS=0, the cache off too, the
        // servers of scenarios 10 and 11 ran their first requests cold.)
        pb.environment().put("BLKSNAP_CDS", "aot");
        return pb;
    }

    /**
     * Runs a command that must succeed.
     *
     * @return its stdout (stderr goes to the bench's log when it fails)
     * @throws IOException if it fails or hangs
     */
    static String run(String... args) throws IOException {
        Path out = Files.createTempFile("bench-blksnap-", ".out");
        Path err = Files.createTempFile("bench-blksnap-", ".err");
        try {
            Process p = builder(List.of(args)).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException("hung for " + TIMEOUT_MINUTES + " min: blksnap " + String.join(" ", args));
            }
            if (p.exitValue() != 0) {
                throw new IOException("blksnap " + String.join(" ", args) + " failed (exit " + p.exitValue() + "): "
                        + Files.readString(err).strip() + " " + Files.readString(out).strip());
            }
            return Files.readString(out, StandardCharsets.UTF_8);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: blksnap " + String.join(" ", args), e);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** A running command (blksnap serve), its output collected line by line. */
    static final class Running implements AutoCloseable {
        private final Process process;
        private final List<String> lines = new ArrayList<>();
        private final Thread reader;

        Running(String... args) throws IOException {
            process = builder(List.of(args)).redirectErrorStream(true).start();
            reader = Thread.ofVirtual().start(() -> {
                try (BufferedReader r = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null;) {
                        synchronized (lines) {
                            lines.add(l);
                            lines.notifyAll();
                        }
                    }
                } catch (IOException ended) {
                    // The process ended: what it printed is kept.
                }
            });
        }

        /**
         * @param prefix how the wanted line begins
         * @return the rest of the first line that begins so
         * @throws IOException if the command ends or takes minutes without printing it
         */
        String await(String prefix) throws IOException, InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(TIMEOUT_MINUTES);
            synchronized (lines) {
                while (true) {
                    for (String l : lines) {
                        if (l.startsWith(prefix)) {
                            return l.substring(prefix.length());
                        }
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || !reader.isAlive()) {
                        throw new IOException("no line beginning '" + prefix + "' from blksnap: " + lines);
                    }
                    lines.wait(Math.max(1, Math.min(1000, left / 1_000_000)));
                }
            }
        }

        /** Stops the command as Ctrl-C does and waits for its clean-up. */
        @Override
        public void close() throws IOException {
            process.toHandle().destroy();
            try {
                if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                    process.destroyForcibly();
                    throw new IOException("blksnap did not end on SIGTERM: " + lines);
                }
                reader.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }

    /** Empties the page cache, so a read measures the device behind it, not RAM. */
    static void dropCaches() throws IOException {
        Guest.sh("sync");
        Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3");
    }

    /** @return seconds a command that must succeed takes, process start included */
    static double timed(String... command) throws IOException {
        long t0 = System.nanoTime();
        Guest.sh(command);
        return (System.nanoTime() - t0) / 1e9;
    }
}
