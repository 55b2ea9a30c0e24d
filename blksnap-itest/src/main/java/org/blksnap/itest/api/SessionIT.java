package org.blksnap.itest.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.blksnap.itest.support.Snapshots;
import org.blksnap.itest.support.LoopDevice;
import org.blksnap.api.BlkSnap;
import org.blksnap.api.CbtChanges;
import org.blksnap.api.CbtInfo;
import org.blksnap.api.CbtMap;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Extent;
import org.blksnap.api.Filter;
import org.blksnap.api.Image;
import org.blksnap.api.NotBlockDeviceException;
import org.blksnap.api.Session;
import org.blksnap.api.SnapshotEvent;
import org.blksnap.api.SnapshotId;
import org.blksnap.api.SnapshotNotFoundException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Session, EventWatcher and CbtMap of the Java API against the real module. */
class SessionIT {
    private static final long MIB = 1L << 20;

    @AfterEach
    void destroyLeftovers() throws IOException {
        Snapshots.destroyAll();
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void sessionHoldsImagesUntilClosed() throws IOException {
        try (LoopDevice a = LoopDevice.create(16 * MIB); LoopDevice b = LoopDevice.create(16 * MIB)) {
            byte[] da = random((int) (2 * MIB), 1);
            byte[] db = random((int) (2 * MIB), 2);
            DeviceIo.write(a.device(), 0, da);
            DeviceIo.write(b.device(), 0, db);
            List<Image> images;
            SnapshotId id;
            try (Session s = Session.builder().device(a.device()).device(b.device())
                    .storage(DiffStorage.directory(Path.of("/tmp"))).limit(32 * MIB).open()) {
                id = s.id();
                images = s.images();
                assertEquals(List.of(a.device(), b.device()), images.stream().map(Image::device).toList());
                assertEquals(List.of(id), Snapshots.list());
                DeviceIo.write(a.device(), 0, new byte[(int) (2 * MIB)]);
                DeviceIo.write(b.device(), 0, new byte[(int) (2 * MIB)]);
                assertArrayEquals(da, DeviceIo.read(images.get(0).image(), 0, da.length));
                assertArrayEquals(db, DeviceIo.read(images.get(1).image(), 0, db.length));
                assertFalse(s.refreshImages().get(0).corrupted());
                assertTrue(s.events().isEmpty(), s.events()::toString);
            }
            assertTrue(Snapshots.list().isEmpty());
            for (Image i : images) {
                assertFalse(Files.exists(i.image()), i.image() + " outlived the session");
            }
            try (BlkSnap blksnap = BlkSnap.open()) {
                assertThrows(SnapshotNotFoundException.class, () -> blksnap.destroy(id));
            }
        }
    }

    @Test
    void failedOpenLeavesNothingBehind() throws IOException {
        try (LoopDevice a = LoopDevice.create(16 * MIB)) {
            assertThrows(NotBlockDeviceException.class, () -> Session.builder().device(a.device())
                    .device(Path.of("/dev/null")).storage(DiffStorage.directory(Path.of("/tmp"))).limit(16 * MIB)
                    .open());
            assertTrue(Snapshots.list().isEmpty(), "a half-built snapshot was left");
        }
    }

    @Test
    void watcherReportsOverflow() throws Exception {
        try (LoopDevice a = LoopDevice.create(64 * MIB)) {
            List<SnapshotEvent> seen = new CopyOnWriteArrayList<>();
            try (Session s = Session.builder().device(a.device()).storage(DiffStorage.directory(Path.of("/tmp")))
                    .limit(MIB).onEvent(seen::add).open()) {
                DeviceIo.write(a.device(), 0, random((int) (32 * MIB), 3));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (seen.isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertFalse(seen.isEmpty(), "no event after overflowing the storage");
                assertTrue(seen.stream().anyMatch(e -> e instanceof SnapshotEvent.Corrupted
                        || e instanceof SnapshotEvent.NoSpace), seen::toString);
                assertTrue(s.refreshImages().get(0).corrupted(), "image not marked corrupted");
                assertEquals(seen, s.events());
            }
        }
    }

    @Test
    void cbtMapTellsIncrementalFromFull() throws IOException {
        try (LoopDevice a = LoopDevice.create(32 * MIB)) {
            DiffStorage tmp = DiffStorage.directory(Path.of("/tmp"));
            CbtInfo first;
            try (Session s = Session.builder().device(a.device()).storage(tmp).limit(32 * MIB).open();
                 Filter f = Filter.open(a.device())) {
                first = CbtMap.read(f).info();
                assertEquals(1, s.images().size());
            }
            int blockSize = first.blockSize();
            DeviceIo.write(a.device(), 3L * blockSize + 512, new byte[1024]);
            DeviceIo.write(a.device(), 9L * blockSize, new byte[2 * blockSize]);
            try (Session s = Session.builder().device(a.device()).storage(tmp).limit(32 * MIB).open();
                 Filter f = Filter.open(a.device())) {
                CbtMap map = CbtMap.read(f);
                assertFalse(s.refreshImages().getFirst().corrupted());
                assertEquals(first.changesNumber() + 1, map.info().changesNumber());
                CbtChanges c = map.changesSince(first.generationId(), first.changesNumber());
                CbtChanges.Incremental inc = assertInstanceOf(CbtChanges.Incremental.class, c);
                assertEquals(List.of(new Extent(3L * blockSize, blockSize), new Extent(9L * blockSize, 2L * blockSize)),
                        inc.extents());
            }
            try (Filter f = Filter.open(a.device())) {
                f.detach();
                f.attach();
                CbtChanges c = CbtMap.read(f).changesSince(first.generationId(), first.changesNumber());
                CbtChanges.FullBackupNeeded full = assertInstanceOf(CbtChanges.FullBackupNeeded.class, c);
                assertTrue(full.reason().startsWith("full backup needed"), full.reason());
            }
        }
    }
}
