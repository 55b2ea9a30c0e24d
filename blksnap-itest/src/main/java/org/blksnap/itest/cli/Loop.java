package org.blksnap.itest.cli;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

/** A loop device over a sparse file in the guest's /tmp (tmpfs), removed on close. */
final class Loop implements AutoCloseable {
    private final Path file;
    private final Path device;

    private Loop(Path file, Path device) {
        this.file = file;
        this.device = device;
    }

    static Loop create(long bytes) throws IOException {
        Path file = Files.createTempFile("cli-loop-", ".img");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(bytes);
        }
        return new Loop(file, Path.of(Shell.sh("losetup", "-f", "--show", file.toString())));
    }

    Path device() {
        return device;
    }

    String path() {
        return device.toString();
    }

    @Override
    public void close() throws IOException {
        // Whatever the test left attached must not outlive the device.
        Shell.blksnap("detach", "--device", path());
        try {
            Shell.sh("losetup", "-d", path());
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
