package org.blksnap.itest.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import org.blksnap.api.BlkSnapException;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.SnapshotId;
import org.blksnap.api.sys.Errno;
import org.blksnap.itest.support.Shell;
import org.junit.jupiter.api.Test;

/**
 * Devices stacked on one another: a loop device whose backing file lives
 * on a filesystem of another device. The take must freeze the upper one
 * first (its freeze writes through the lower one) and thaw it last,
 * whatever order the devices were added in; and difference storage that ends up on a tracked
 * disk through such a stack must be refused, as storage on the disk itself
 * is.
 */
class StackedDevicesIT {
    private static final DiffStorage TMP = DiffStorage.directory(Path.of("/tmp"));
    /** A take of two small filesystems needs seconds; a deadlocked one never ends. */
    private static final long TAKE_TIMEOUT_S = 60;

    /**
     * A loop device with ext4, a second loop device over a file on it, ext4
     * on that one; both mounted. Loop devices, not a scratch disk: should a
     * take deadlock, the test thaws the lower filesystem by hand, which
     * leaves its block device counted as frozen until it is detached.
     */
    private record Stack(Path lower, Path lowerMount, Path upper, Path upperMount) {
    }

    private static Stack stack(Rig rig) throws Exception {
        Path lower = rig.loop(256L << 20);
        GuestOs.mkfs("ext4", lower);
        Path lowerMount = rig.mount(lower, "ext4");
        Path upper = rig.loopOver(lowerMount.resolve("upper.img"), 64L << 20);
        GuestOs.mkfs("ext4", upper);
        return new Stack(lower, lowerMount, upper, rig.mount(upper, "ext4"));
    }

    @Test
    void takeOfALoopOverAFileOfAnotherDeviceLowerAddedFirst() throws Exception {
        takeStacked(true);
    }

    @Test
    void takeOfALoopOverAFileOfAnotherDeviceUpperAddedFirst() throws Exception {
        takeStacked(false);
    }

    private static void takeStacked(boolean lowerFirst) throws Exception {
        try (Rig rig = new Rig()) {
            AtomicReference<Path> thawedByHand = new AtomicReference<>();
            rig.removeLoopOnClose(thawedByHand::get);
            Stack s = stack(rig);
            Data.writeFile(s.upperMount().resolve("kept"), 1 << 20, 1);
            Map<String, String> atTake = Data.md5Tree(s.upperMount());
            List<Path> order = lowerFirst ? List.of(s.lower(), s.upper()) : List.of(s.upper(), s.lower());
            for (Path d : order) {
                rig.attach(d);
            }
            SnapshotId id = rig.create(TMP, 1L << 21);
            for (Path d : order) {
                try (Filter f = Filter.open(d)) {
                    f.snapshotAdd(id);
                }
            }
            // Dirty pages on the upper filesystem: freezing it writes them
            // through the loop device into the lower filesystem, which must
            // not be frozen yet; thawing it writes its superblock there too.
            byte[] dirty = new byte[8 << 20];
            new java.util.Random(2).nextBytes(dirty);
            java.nio.file.Files.write(s.upperMount().resolve("dirty"), dirty);

            CompletableFuture<Void> take = CompletableFuture.runAsync(() -> {
                try {
                    rig.blksnap().take(id);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            try {
                take.get(TAKE_TIMEOUT_S, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                // Thawing the lower filesystem by hand lets the loop worker,
                // the upper freeze or thaw and so the take go on; the test
                // still fails.
                Shell.run("fsfreeze", "-u", s.lowerMount().toString());
                thawedByHand.set(s.lower());
                take.get(TAKE_TIMEOUT_S, TimeUnit.SECONDS);
                fail("the take did not complete within " + TAKE_TIMEOUT_S + " s (freeze order deadlock)");
            }
            Path upperImage = Rig.info(s.upper()).imagePath().orElseThrow();
            Map<String, String> seen = Data.md5Tree(rig.mountImage(upperImage, "ext4"));
            assertEquals(atTake.get("kept"), seen.get("kept"), "the upper image holds the file of the take");
        }
    }

    @Test
    void storageOnALoopDeviceOverATrackedDeviceIsRefused() throws Exception {
        try (Rig rig = new Rig()) {
            Stack s = stack(rig);
            rig.attach(s.lower());
            // 16 MiB: the storage's first step must fit the 64 MiB filesystem.
            SnapshotId id = rig.create(DiffStorage.directory(s.upperMount()), 1L << 15);
            try (Filter f = Filter.open(s.lower())) {
                BlkSnapException e = assertThrows(BlkSnapException.class, () -> f.snapshotAdd(id));
                assertEquals(Errno.EPERM, e.errno(), e.getMessage());
            }
        }
    }

    @Test
    void storageOnADmDeviceOverATrackedDiskIsRefused() throws Exception {
        try (Rig rig = new Rig()) {
            Path tracked = rig.loop(64L << 20);
            long sectors = Data.sizeOf(tracked) / 512;
            Path linear = rig.dm("itest-stacked-storage", "0 " + sectors / 2 + " linear " + tracked + " "
                    + sectors / 2);
            rig.attach(tracked);
            SnapshotId id = rig.create(DiffStorage.blockDevice(linear), sectors / 2);
            try (Filter f = Filter.open(tracked)) {
                BlkSnapException e = assertThrows(BlkSnapException.class, () -> f.snapshotAdd(id));
                assertEquals(Errno.EPERM, e.errno(), e.getMessage());
            }
        }
    }
}
