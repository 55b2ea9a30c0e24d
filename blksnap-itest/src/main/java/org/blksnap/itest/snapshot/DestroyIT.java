package org.blksnap.itest.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.blksnap.itest.support.Shell;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.SnapshotId;
import org.junit.jupiter.api.Test;

import com.sun.nio.file.ExtendedOpenOption;

/** Destroying a snapshot whose image is busy ends cleanly for everyone. */
class DestroyIT {

    @Test
    void destroyWhileTheImageIsReadAndTheOriginalWritten() throws Exception {
        try (Rig rig = new Rig()) {
            Path device = rig.loop(128L << 20);
            Path image = rig.snapshot(DiffStorage.directory(Path.of("/tmp")), 1L << 20, device).get(0);
            AtomicLong reads = new AtomicLong();
            AtomicReference<Exception> readerEnd = new AtomicReference<>();
            Thread reader = Thread.ofPlatform().start(() -> {
                ByteBuffer buf = Data.aligned(1 << 16);
                try (FileChannel c = FileChannel.open(image, StandardOpenOption.READ, ExtendedOpenOption.DIRECT)) {
                    for (long pos = 0;; pos = (pos + buf.capacity()) % (128L << 20)) {
                        buf.clear();
                        c.read(buf, pos);
                        reads.incrementAndGet();
                    }
                } catch (Exception e) {
                    readerEnd.set(e);
                }
            });
            List<Data.Write> writes = Data.randomWrites(128L << 20, 100, 41);
            Data.writeDirect(device, writes, 42);
            while (reads.get() < 50) {
                Thread.sleep(10);
            }
            rig.blksnap().destroy(rig.id());
            reader.join(60_000);
            assertFalse(reader.isAlive(), "the image reader must be ended by errors");
            assertNotNull(readerEnd.get());
            assertTrue(readerEnd.get() instanceof IOException, readerEnd.get().toString());
            assertFalse(rig.blksnap().collect().contains(rig.id()));
            // The original goes on as before.
            Data.writeDirect(device, writes, 43);
            assertFalse(Files.exists(image), "the image node is gone");
        }
    }

    /**
     * When DESTROY returns the storage is closed: a block device storage
     * (opened exclusively) is free for the next snapshot at once, even while
     * the destroyed snapshot's image is still held open by a reader, which
     * only gets errors from then on.
     */
    @Test
    void destroyClosesTheStorageEvenWithTheImageHeldOpen() throws Exception {
        try (Rig rig = new Rig()) {
            Path device = rig.loop(64L << 20);
            Path image = rig.snapshot(DiffStorage.blockDevice(GuestOs.VDC), 1L << 20, device).get(0);
            Data.writeDirect(device, Data.randomWrites(64L << 20, 50, 51), 52);
            try (FileChannel held = FileChannel.open(image, StandardOpenOption.READ, ExtendedOpenOption.DIRECT)) {
                rig.blksnap().destroy(rig.id());
                SnapshotId next = rig.blksnap().createSnapshot(DiffStorage.blockDevice(GuestOs.VDC), 1L << 20);
                rig.blksnap().destroy(next);
                ByteBuffer buf = Data.aligned(1 << 16);
                assertThrows(IOException.class, () -> held.read(buf, 0), "the destroyed image must fail reads");
            }
            for (int i = 0; i < 5; i++) {
                rig.blksnap().destroy(rig.blksnap().createSnapshot(DiffStorage.blockDevice(GuestOs.VDC), 1L << 20));
            }
        }
    }

    @Test
    void destroyWhileTheImageIsMounted() throws Exception {
        try (Rig rig = new Rig()) {
            GuestOs.mkfs("ext4", GuestOs.VDB);
            Path live = rig.mount(GuestOs.VDB, "ext4");
            Data.writeFile(live.resolve("a"), 1 << 20, 1);
            Path image = rig.snapshot(DiffStorage.directory(Path.of("/tmp")), 1L << 20, GuestOs.VDB).get(0);
            Path mounted = Files.createTempDirectory("snap-img");
            try {
                GuestOs.mountImage("ext4", image, mounted);
                Data.writeFile(live.resolve("b"), 1 << 20, 2);
                rig.blksnap().destroy(rig.id());
                // Reads through the dead image fail; the unmount still works.
                Shell.Result read = Shell.run("sh", "-c", "echo 3 > /proc/sys/vm/drop_caches; cat "
                        + mounted.resolve("a") + " > /dev/null");
                assertFalse(read.ok(), "reading the destroyed image must fail: " + read.output());
                Shell.sh("umount", mounted.toString());
            } finally {
                Shell.run("umount", mounted.toString());
                Files.deleteIfExists(mounted);
            }
            assertFalse(rig.blksnap().collect().contains(rig.id()));
            Data.writeFile(live.resolve("c"), 1 << 20, 3);
            assertEquals(3, Data.md5Tree(live).size());
        }
    }
}
