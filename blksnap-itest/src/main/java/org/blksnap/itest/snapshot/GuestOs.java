package org.blksnap.itest.snapshot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Commands and kernel files of the guest that the snapshot tests use. */
final class GuestOs {
    static final Path VDB = Path.of("/dev/vdb");
    static final Path VDC = Path.of("/dev/vdc");
    static final Path PARAMETERS = Path.of("/sys/module/blksnap/parameters");
    static final Path DEBUGFS = Path.of("/sys/kernel/debug/blksnap");

    private GuestOs() {
    }

    /** Output and exit status of a command. */
    record Result(int status, String output) {
        boolean ok() {
            return status == 0;
        }
    }

    /** Runs a command, stdout and stderr merged; never throws for a non-zero status. */
    static Result run(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("hung: " + String.join(" ", command));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    /** Runs a command that must succeed and returns its output. */
    static String sh(String... command) throws IOException {
        Result r = run(command);
        if (!r.ok()) {
            throw new IOException(String.join(" ", command) + " failed (" + r.status() + "): " + r.output());
        }
        return r.output().strip();
    }

    /** Makes a filesystem of the given type on a device. */
    static void mkfs(String fs, Path device) throws IOException {
        switch (fs) {
            case "ext4" -> sh("mkfs.ext4", "-q", "-F", device.toString());
            case "xfs" -> sh("mkfs.xfs", "-q", "-f", device.toString());
            default -> throw new IllegalArgumentException(fs);
        }
    }

    /**
     * Mounts a snapshot image. XFS refuses a second mount of the same UUID,
     * which the image shares with its original.
     */
    static void mountImage(String fs, Path image, Path dir) throws IOException {
        Files.createDirectories(dir);
        if (fs.equals("xfs")) {
            sh("mount", "-t", "xfs", "-o", "nouuid", image.toString(), dir.toString());
        } else {
            sh("mount", "-t", fs, image.toString(), dir.toString());
        }
    }

    static String readParameter(String name) throws IOException {
        return Files.readString(PARAMETERS.resolve(name)).strip();
    }

    static void writeParameter(String name, String value) throws IOException {
        Files.writeString(PARAMETERS.resolve(name), value);
    }
}
