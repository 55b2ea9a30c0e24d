package org.blksnap.itest.cbt;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

/** A loop device over a sparse file in the guest's /tmp, removed on close. */
final class LoopDevice implements AutoCloseable {
    private final Path backing;
    private final Path device;
    private boolean attached = true;

    private LoopDevice(Path backing, Path device) {
        this.backing = backing;
        this.device = device;
    }

    /**
     * @param bytes     size of the backing file
     * @param partscan  scan for partitions ({@code losetup -P})
     */
    static LoopDevice create(long bytes, boolean partscan) throws IOException {
        Path file = Files.createTempFile("cbt-loop-", ".img");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(bytes);
        }
        String dev = partscan
                ? Guest.sh("losetup", "-f", "--show", "-P", file.toString())
                : Guest.sh("losetup", "-f", "--show", file.toString());
        return new LoopDevice(file, Path.of(dev));
    }

    static LoopDevice create(long bytes) throws IOException {
        return create(bytes, false);
    }

    Path device() {
        return device;
    }

    /** The n-th partition node, e.g. /dev/loop3p1. */
    Path partition(int n) {
        return Path.of(device + "p" + n);
    }

    /** Resizes the backing file and tells the loop driver ({@code losetup -c}). */
    void resize(long bytes) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(backing.toFile(), "rw")) {
            raf.setLength(bytes);
        }
        Guest.sh("losetup", "-c", device.toString());
    }

    /** Unbinds the loop device from its file ({@code losetup -d}). */
    void detach() throws IOException {
        if (attached) {
            Guest.sh("losetup", "-d", device.toString());
            attached = false;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            detach();
        } finally {
            Files.deleteIfExists(backing);
        }
    }
}
