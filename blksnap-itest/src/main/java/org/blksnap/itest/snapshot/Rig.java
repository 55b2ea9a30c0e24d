package org.blksnap.itest.snapshot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

import org.blksnap.itest.support.Shell;
import org.blksnap.api.BlkSnap;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.SnapshotId;
import org.blksnap.api.SnapshotInfo;

/**
 * What one test sets up — attached filters, a snapshot, mounts, loop
 * devices, scratch files — undone in reverse order on close, even after a
 * failure, so that one broken test does not break the next.
 */
final class Rig implements AutoCloseable {
    private final BlkSnap blksnap;
    private final Deque<Undo> undo = new ArrayDeque<>();
    private SnapshotId snapshot;

    @FunctionalInterface
    private interface Undo {
        void run() throws Exception;
    }

    Rig() throws IOException {
        blksnap = BlkSnap.open();
        undo.push(blksnap::close);
    }

    BlkSnap blksnap() {
        return blksnap;
    }

    /** Attaches the filter to a device for the test's duration. */
    Rig attach(Path device) throws IOException {
        try (Filter f = Filter.open(device)) {
            f.attach();
        }
        undo.push(() -> {
            // A device in a snapshot cannot be detached, whatever the order of setup.
            destroySnapshot();
            try (Filter f = Filter.open(device)) {
                if (f.isAttached()) {
                    f.detach();
                }
            }
        });
        return this;
    }

    /** A loop device over a new sparse file in /tmp, detached on close. */
    Path loop(long bytes) throws IOException {
        return loopOver(Files.createTempFile("snap-loop", ".img"), bytes);
    }

    /** Like {@link #loop}, with partition scanning ({@code losetup -P}). */
    Path loopPartitioned(long bytes) throws IOException {
        return loopOver(Files.createTempFile("snap-loop", ".img"), bytes, "--partscan");
    }

    /** A loop device over a sparse file of the given size at {@code file}, detached on close. */
    Path loopOver(Path file, long bytes, String... options) throws IOException {
        undo.push(() -> Files.deleteIfExists(file));
        Shell.sh("truncate", "-s", Long.toString(bytes), file.toString());
        List<String> losetup = new java.util.ArrayList<>(List.of("losetup", "--find", "--show"));
        losetup.addAll(List.of(options));
        losetup.add(file.toString());
        Path dev = Path.of(Shell.sh(losetup.toArray(String[]::new)));
        undo.push(() -> Shell.run("losetup", "-d", dev.toString()));
        return dev;
    }

    /**
     * A device-mapper device with the given table, removed on close. The
     * guest runs no udev: the device is used through the /dev/dm-N node.
     */
    Path dm(String name, String table) throws IOException {
        Shell.sh("dmsetup", "create", name, "--table", table);
        undo.push(() -> Shell.run("dmsetup", "remove", "--retry", name));
        return Path.of("/dev", Shell.sh("dmsetup", "info", "-c", "--noheadings", "-o", "blkdevname", name));
    }

    /**
     * Deletes a loop device once it is detached (LOOP_CTL_REMOVE), for a
     * test that may leave it counted as frozen by the kernel: a loop device
     * keeps that count across detach and attach, and the next test to get
     * the same number could not mount it. Call before creating the device,
     * so that the removal comes after its detach on close.
     */
    void removeLoopOnClose(java.util.function.Supplier<Path> loop) {
        undo.push(() -> {
            Path dev = loop.get();
            if (dev == null) {
                return;
            }
            int n = Integer.parseInt(dev.getFileName().toString().replace("loop", ""));
            var control = org.blksnap.api.sys.Linux.open("/dev/loop-control", org.blksnap.api.sys.Linux.O_RDWR);
            if (!control.ok()) {
                throw new IOException("open /dev/loop-control: " + control);
            }
            try {
                var r = org.blksnap.api.sys.Linux.ioctl(control.intValue(), LOOP_CTL_REMOVE, n);
                if (!r.ok()) {
                    throw new IOException("LOOP_CTL_REMOVE " + dev + ": " + r);
                }
            } finally {
                org.blksnap.api.sys.Linux.close(control.intValue());
            }
        });
    }

    /** From linux/loop.h. */
    private static final long LOOP_CTL_REMOVE = 0x4C81;

    /** Mounts a device; unmounted on close. */
    Path mount(Path device, String fs) throws IOException {
        Path dir = Files.createTempDirectory("snap-mnt");
        undo.push(() -> Files.deleteIfExists(dir));
        Shell.sh("mount", "-t", fs, device.toString(), dir.toString());
        undo.push(() -> Shell.run("umount", dir.toString()));
        return dir;
    }

    /** Mounts a snapshot image (see {@link GuestOs#mountImage}); unmounted on close. */
    Path mountImage(Path image, String fs) throws IOException {
        Path dir = Files.createTempDirectory("snap-img");
        undo.push(() -> Files.deleteIfExists(dir));
        GuestOs.mountImage(fs, image, dir);
        undo.push(() -> Shell.run("umount", dir.toString()));
        return dir;
    }

    /** Sets a module parameter, restored on close. */
    void parameter(String name, String value) throws IOException {
        String old = GuestOs.readParameter(name);
        undo.push(() -> GuestOs.writeParameter(name, old));
        GuestOs.writeParameter(name, value);
    }

    /** Creates the test's snapshot; destroyed on close unless destroyed before. */
    SnapshotId create(DiffStorage storage, long limitSectors) throws IOException {
        SnapshotId id = blksnap.createSnapshot(storage, limitSectors);
        snapshot = id;
        undo.push(this::destroySnapshot);
        return id;
    }

    private void destroySnapshot() throws IOException {
        if (snapshot != null && blksnap.collect().contains(snapshot)) {
            blksnap.destroy(snapshot);
        }
    }

    SnapshotId id() {
        return snapshot;
    }

    /** Attaches, adds every device, takes; returns the image of each device in order. */
    List<Path> snapshot(DiffStorage storage, long limitSectors, Path... devices) throws IOException {
        for (Path d : devices) {
            attach(d);
        }
        SnapshotId id = create(storage, limitSectors);
        for (Path d : devices) {
            try (Filter f = Filter.open(d)) {
                f.snapshotAdd(id);
            }
        }
        blksnap.take(id);
        List<Path> images = new java.util.ArrayList<>();
        for (Path d : devices) {
            images.add(info(d).imagePath().orElseThrow(() -> new IOException(d + ": no image after take")));
        }
        return images;
    }

    static SnapshotInfo info(Path device) throws IOException {
        try (Filter f = Filter.open(device)) {
            return f.snapshotInfo();
        }
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        while (!undo.isEmpty()) {
            try {
                undo.pop().run();
            } catch (Exception e) {
                if (first == null) {
                    first = e instanceof IOException io ? io : new IOException("cleanup failed", e);
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
