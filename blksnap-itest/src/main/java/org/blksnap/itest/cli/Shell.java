package org.blksnap.itest.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.blksnap.cli.Main;

/** Runs the blksnap command in this JVM or as a process, and other guest commands. */
final class Shell {
    /** The launcher of the project tree this test runs from. */
    static final Path LAUNCHER = Path.of(System.getProperty("blksnap.root", "/work/main"), "bin", "blksnap");

    private Shell() {
    }

    /** What a command printed and returned. */
    record Result(int status, String out, String err) {
        Result ok() {
            if (status != 0) {
                throw new AssertionError("exit " + status + "\nstdout: " + out + "\nstderr: " + err);
            }
            return this;
        }

        /** The value of a key=value line of stdout. */
        String value(String key) {
            return out.lines().filter(l -> l.startsWith(key + "=")).map(l -> l.substring(key.length() + 1))
                    .findFirst().orElseThrow(() -> new AssertionError("no " + key + "= in: " + out));
        }
    }

    /** The command in this JVM (quick: no JVM start per call under TCG). */
    static Result blksnap(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Result(status, out.toString(), err.toString());
    }

    /** Any command as a process; never throws for a non-zero status. */
    static Result run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).start();
        try {
            // Read both pipes while the process runs so neither fills up.
            var err = p.getErrorStream();
            var errText = new java.util.concurrent.CompletableFuture<String>();
            Thread.ofVirtual().start(() -> {
                try {
                    errText.complete(new String(err.readAllBytes(), StandardCharsets.UTF_8));
                } catch (IOException e) {
                    errText.completeExceptionally(e);
                }
            });
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("timed out: " + command);
            }
            return new Result(p.exitValue(), out, errText.get(60, TimeUnit.SECONDS));
        } catch (InterruptedException | java.util.concurrent.ExecutionException
                | java.util.concurrent.TimeoutException e) {
            throw new IOException("failed to run " + command, e);
        }
    }

    /** The launcher {@code bin/blksnap} as a process. */
    static Result launcher(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(LAUNCHER.toString());
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    /** A guest command that must succeed; returns its stdout. */
    static String sh(String... command) throws IOException {
        return run(List.of(command)).ok().out().strip();
    }
}
