package org.blksnap.itest.support;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import org.blksnap.api.Filter;

/**
 * A loop device over a sparse file in the guest's /tmp. Closing it detaches
 * any blksnap filter a failed test left behind, unbinds the loop and deletes
 * the file, so one failure does not leak into the next test.
 */
public final class LoopDevice implements AutoCloseable {
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
    public static LoopDevice create(long bytes, boolean partscan) throws IOException {
        Path file = Files.createTempFile("itest-loop-", ".img");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(bytes);
        }
        String dev = partscan
                ? Shell.sh("losetup", "-f", "--show", "-P", file.toString())
                : Shell.sh("losetup", "-f", "--show", file.toString());
        return new LoopDevice(file, Path.of(dev));
    }

    public static LoopDevice create(long bytes) throws IOException {
        return create(bytes, false);
    }

    public Path device() {
        return device;
    }

    /** The device node as a string, for command lines. */
    public String path() {
        return device.toString();
    }

    public Path file() {
        return backing;
    }

    /** The n-th partition node, e.g. /dev/loop3p1. */
    public Path partition(int n) {
        return Path.of(device + "p" + n);
    }

    /** Resizes the backing file and tells the loop driver ({@code losetup -c}). */
    public void resize(long bytes) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(backing.toFile(), "rw")) {
            raf.setLength(bytes);
        }
        Shell.sh("losetup", "-c", device.toString());
    }

    /** Unbinds the loop device from its file ({@code losetup -d}). */
    public void detach() throws IOException {
        if (attached) {
            Shell.sh("losetup", "-d", device.toString());
            attached = false;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            if (attached) {
                detachFilter();
            }
            detach();
        } finally {
            Files.deleteIfExists(backing);
        }
    }

    private void detachFilter() {
        try (Filter f = Filter.open(device)) {
            if (f.isAttached()) {
                f.detach();
            }
        } catch (IOException ignored) {
            // Best effort: a device in a snapshot refuses; the loop detach then ends the filter.
        }
    }
}
