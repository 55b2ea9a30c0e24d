package org.blksnap.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The guest's tools and kernel files the benchmark uses. */
final class Guest {
    /** Generous: a one-pass job over the region with copy-on-write, under a loaded host. */
    private static final long TIMEOUT_MINUTES = 10;
    static final Path DEBUGFS = Path.of("/sys/kernel/debug/blksnap");
    static final Path PARAMETERS = Path.of("/sys/module/blksnap/parameters");

    private Guest() {
    }

    /**
     * Runs a command that must succeed.
     *
     * @return its output (stdout and stderr), stripped
     * @throws IOException if it fails, hangs or cannot start
     */
    static String sh(List<String> command) throws IOException {
        // A file, not a pipe: a chatty command cannot block on a full pipe.
        Path log = Files.createTempFile("bench-cmd-", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException("hung for " + TIMEOUT_MINUTES + " min: " + String.join(" ", command));
            }
            String out = Files.readString(log, StandardCharsets.UTF_8).strip();
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed (exit " + p.exitValue() + "): " + out);
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    static String sh(String... command) throws IOException {
        return sh(List.of(command));
    }

    /**
     * @return the size of a block device in bytes
     * @throws IOException if it is no block device of this machine
     */
    static long deviceBytes(Path device) throws IOException {
        // sysfs rather than blockdev(8): a process costs a second under TCG.
        Path sectors = Path.of("/sys/class/block").resolve(device.toRealPath().getFileName()).resolve("size");
        if (!Files.isReadable(sectors)) {
            throw new IOException(device + " is not a block device (no " + sectors + ")");
        }
        return Long.parseLong(Files.readString(sectors).strip()) * 512;
    }

    /** @return a blksnap module parameter */
    static long parameter(String name) throws IOException {
        return Long.parseLong(Files.readString(PARAMETERS.resolve(name)).strip());
    }

    /** @return the content of a file under /sys/kernel/debug/blksnap */
    static String debugfs(String name) throws IOException {
        Path f = DEBUGFS.resolve(name);
        if (!Files.isReadable(f)) {
            throw new IOException(f + " is missing: debugfs not mounted or blksnap not loaded");
        }
        return Files.readString(f);
    }

    /** @return the guest's description for the results */
    static Results.Environment environment(String disks) throws IOException {
        long memKb = Files.readAllLines(Path.of("/proc/meminfo")).stream()
                .filter(l -> l.startsWith("MemTotal:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", "")))
                .findFirst().orElse(0);
        return new Results.Environment(sh("uname", "-r"), Runtime.getRuntime().availableProcessors(), memKb,
                sh("fio", "--version"), disks);
    }
}
