package org.blksnap.itest.verify.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.DeviceNumber;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.SnapshotEvent;
import org.blksnap.api.SnapshotId;
import org.blksnap.api.sys.Errno;
import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Shell;
import org.blksnap.itest.verify.Evidence;
import org.blksnap.itest.verify.Evidence.Tally;
import org.junit.jupiter.api.Test;

import com.sun.nio.file.ExtendedOpenOption;

/**
 * Pull-out and teardown that the snapshot tests do not cover: the original
 * is a device-mapper device removed during a snapshot, and a snapshot is
 * destroyed while its image is mounted and read by several threads.
 */
class TeardownIT {
    private static final int SIZE = 32 << 20;
    private static final String NAME = "blksnap-itest-orig";

    @Test
    void dmRemoveOfTheOriginalCorruptsTheSnapshotAndLosesNoData() throws Exception {
        Path tmp = Files.createTempDirectory("blksnap-dmrm");
        try (LoopDevice backing = LoopDevice.create(SIZE); BlkSnap blksnap = BlkSnap.open()) {
            DmDevice dm = DmDevice.create(NAME, "0 " + SIZE / 512 + " linear " + backing.path() + " 0");
            Path original = dm.node();
            SnapshotId id = null;
            try {
                DeviceModel model = DeviceModel.fill(original, SIZE, 81);
                DeviceNumber number;
                Path image;
                try (Filter f = Filter.open(original)) {
                    number = f.deviceNumber();
                    f.attach();
                    id = blksnap.createSnapshot(DiffStorage.directory(tmp), 1L << 16);
                    f.snapshotAdd(id);
                    blksnap.take(id);
                    Evidence.add(Tally.SNAPSHOTS_TAKEN, 1);
                    image = f.snapshotInfo().imagePath().orElseThrow();
                }
                byte[] atTake = model.copy();
                Random rng = new Random(82);
                ByteBuffer buf = DeviceModel.aligned(64 << 10);
                try (FileChannel c = DeviceModel.open(original, StandardOpenOption.WRITE)) {
                    for (long at = 0; at < 4 << 20; at += 256 << 10) {
                        model.write(c, buf, rng, at, 64 << 10);
                    }
                }
                DeviceModel.verify(image, Arrays.copyOf(atTake, 4 << 20));

                dm.remove();
                Evidence.fault("dm remove of the original");
                assertFalse(Files.exists(original), original + " still there after dmsetup remove");

                Optional<SnapshotEvent> event = blksnap.waitEvent(id, Duration.ofSeconds(10));
                assertTrue(event.isPresent(), "no event reported the loss of the original");
                assertTrue(event.get() instanceof SnapshotEvent.Corrupted c && c.errno() == Errno.ENODEV
                        && c.major() == number.major() && c.minor() == number.minor(), event.get().toString());
                assertThrows(IOException.class, () -> DeviceModel.verify(image, atTake),
                        "the image of a removed original must refuse reads");
                // The data under the removed mapping is exactly what was written to it.
                DeviceModel.verify(backing.device(), model.copy());
            } finally {
                if (id != null) {
                    blksnap.destroy(id);
                }
                dm.close();
            }
        } finally {
            Shell.run("rm", "-rf", tmp.toString());
        }
    }

    @Test
    void destroyWhileTheMountedImageIsReadEndsTheReadersNotTheOriginal() throws Exception {
        Path tmp = Files.createTempDirectory("blksnap-busy");
        Path live = Files.createDirectory(tmp.resolve("live"));
        Path mounted = Files.createDirectory(tmp.resolve("image"));
        try (LoopDevice loop = LoopDevice.create(128L << 20); BlkSnap blksnap = BlkSnap.open()) {
            Shell.sh("mkfs.ext4", "-q", "-F", loop.path());
            Shell.sh("mount", loop.path(), live.toString());
            try {
                Map<String, byte[]> files = new TreeMap<>();
                Random rng = new Random(91);
                for (int i = 0; i < 8; i++) {
                    byte[] b = new byte[1 << 20];
                    rng.nextBytes(b);
                    files.put("f" + i, b);
                    Files.write(live.resolve("f" + i), b);
                }
                Shell.sh("sync");
                SnapshotId id;
                try (Filter f = Filter.open(loop.device())) {
                    f.attach();
                    id = blksnap.createSnapshot(DiffStorage.directory(tmp), 1L << 18);
                    f.snapshotAdd(id);
                    blksnap.take(id);
                    Evidence.add(Tally.SNAPSHOTS_TAKEN, 1);
                    Path image = f.snapshotInfo().imagePath().orElseThrow();
                    Shell.sh("mount", "-t", "ext4", image.toString(), mounted.toString());
                }
                try {
                    readUntilDestroyed(blksnap, id, mounted, new TreeMap<>(files), files, live);
                } finally {
                    Shell.run("umount", mounted.toString());
                    try (Filter f = Filter.open(loop.device())) {
                        f.detach();
                    }
                }
                // The original filesystem holds exactly what was written to it.
                for (var e : files.entrySet()) {
                    assertTrue(Arrays.equals(e.getValue(), Files.readAllBytes(live.resolve(e.getKey()))),
                            loop.path() + ": file " + e.getKey() + " of the original differs");
                    Evidence.add(Tally.BYTES_COMPARED, e.getValue().length);
                }
            } finally {
                Shell.run("umount", live.toString());
            }
            Shell.Result fsck = Shell.run("fsck.ext4", "-n", "-f", loop.path());
            assertEquals(0, fsck.status(), "fsck of the original: " + fsck.output());
        } finally {
            Shell.run("rm", "-rf", tmp.toString());
        }
    }

    /**
     * Readers loop over the image's files with O_DIRECT (every read reaches
     * the image device) and compare them with what was there at the take,
     * while the original's files are rewritten; then the snapshot is
     * destroyed under them. Each reader must end with an I/O error.
     */
    private static void readUntilDestroyed(BlkSnap blksnap, SnapshotId id, Path mounted, Map<String, byte[]> atTake,
            Map<String, byte[]> files, Path live) throws Exception {
        int readers = 3;
        AtomicLong reads = new AtomicLong();
        AtomicReferenceArray<Throwable> ends = new AtomicReferenceArray<>(readers);
        List<String> names = new ArrayList<>(atTake.keySet());
        List<Thread> threads = new ArrayList<>();
        for (int r = 0; r < readers; r++) {
            int me = r;
            threads.add(Thread.ofPlatform().start(() -> {
                ByteBuffer buf = DeviceModel.aligned(1 << 20);
                byte[] got = new byte[1 << 20];
                try {
                    for (int i = me;; i++) {
                        String name = names.get(i % names.size());
                        try (FileChannel c = FileChannel.open(mounted.resolve(name), StandardOpenOption.READ,
                                ExtendedOpenOption.DIRECT)) {
                            buf.clear();
                            while (buf.hasRemaining() && c.read(buf, buf.position()) > 0) {
                                // whole file
                            }
                            buf.flip().get(got);
                        }
                        if (!Arrays.equals(atTake.get(name), got)) {
                            Evidence.add(Tally.MISMATCHES, 1);
                            throw new AssertionError(mounted + "/" + name + ": image file differs from the take");
                        }
                        Evidence.add(Tally.BYTES_COMPARED, got.length);
                        reads.incrementAndGet();
                    }
                } catch (Throwable t) {
                    ends.set(me, t);
                }
            }));
        }
        Random rng = new Random(92);
        for (int i = 0; i < 4; i++) {
            byte[] b = new byte[1 << 20];
            rng.nextBytes(b);
            files.put("f" + i, b);
            // In place, as a database would: the blocks under the image change.
            try (FileChannel c = FileChannel.open(live.resolve("f" + i), StandardOpenOption.WRITE)) {
                c.write(ByteBuffer.wrap(b), 0);
                c.force(true);
            }
        }
        while (reads.get() < 2 * readers) {
            Thread.sleep(20);
        }
        blksnap.destroy(id);
        Evidence.fault("destroy under a mounted image with read load");
        for (int r = 0; r < readers; r++) {
            threads.get(r).join(60_000);
            assertFalse(threads.get(r).isAlive(), "reader " + r + " still runs 60 s after destroy");
            Throwable end = ends.get(r);
            assertTrue(end instanceof IOException, "reader " + r + " ended with " + end);
        }
    }
}
