package org.blksnap.itest.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.blksnap.api.DiffStorage;
import org.junit.jupiter.api.Test;

import com.sun.nio.file.ExtendedOpenOption;

/** Several devices in one snapshot share one point in time. */
class MultiDeviceIT {

    @Test
    void ext4AndXfsOnTwoVirtioDisksAndALoopKeepTheirFiles() throws Exception {
        try (Rig rig = new Rig()) {
            Path loop = rig.loop(256L << 20);
            List<Path> devices = List.of(GuestOs.VDB, GuestOs.VDC, loop);
            List<String> types = List.of("ext4", "xfs", "ext4");
            Path[] live = new Path[3];
            List<Map<String, String>> atTake = new java.util.ArrayList<>();
            for (int d = 0; d < 3; d++) {
                GuestOs.mkfs(types.get(d), devices.get(d));
                live[d] = rig.mount(devices.get(d), types.get(d));
                for (int i = 0; i < 3; i++) {
                    Data.writeFile(live[d].resolve("f" + i), (i + 1) << 20, 10 * d + i);
                }
                atTake.add(Data.md5Tree(live[d]));
            }

            List<Path> images = rig.snapshot(DiffStorage.directory(Path.of("/tmp")), 1L << 21,
                    devices.toArray(Path[]::new));

            for (int d = 0; d < 3; d++) {
                Data.overwrite(live[d].resolve("f0"), 0, 300_000, 500 + d);
                Data.writeFile(live[d].resolve("f1"), 1 << 20, 600 + d);
            }
            for (int d = 0; d < 3; d++) {
                Path mounted = rig.mountImage(images.get(d), types.get(d));
                assertEquals(atTake.get(d), Data.md5Tree(mounted), devices.get(d) + " image");
            }
        }
    }

    /**
     * A writer stamps an increasing counter on device A, then on device B,
     * each write finished before the next begins. At any single point in
     * time A holds B's value or one more; a take that switched the devices
     * one after the other could catch B ahead of A.
     */
    @Test
    void rawWritersSeeOnePointInTimeAcrossDevices() throws Exception {
        try (Rig rig = new Rig()) {
            Path a = rig.loop(64L << 20);
            Path b = rig.loop(64L << 20);
            rig.attach(a).attach(b);
            var id = rig.create(DiffStorage.directory(Path.of("/tmp")), 1L << 20);
            for (Path d : List.of(a, b)) {
                try (var f = org.blksnap.api.Filter.open(d)) {
                    f.snapshotAdd(id);
                }
            }
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Exception> failure = new AtomicReference<>();
            Thread writer = Thread.ofPlatform().start(() -> {
                try (FileChannel ca = FileChannel.open(a, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);
                        FileChannel cb = FileChannel.open(b, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT)) {
                    ByteBuffer buf = Data.aligned(Data.ALIGN);
                    for (long n = 1; !stop.get(); n++) {
                        stamp(ca, buf, n);
                        stamp(cb, buf, n);
                    }
                } catch (Exception e) {
                    failure.set(e);
                }
            });
            Thread.sleep(500);
            rig.blksnap().take(id);
            Thread.sleep(500);
            stop.set(true);
            writer.join();
            if (failure.get() != null) {
                throw failure.get();
            }
            long onA = counter(Rig.info(a).imagePath().orElseThrow());
            long onB = counter(Rig.info(b).imagePath().orElseThrow());
            assertTrue(onA > 0, "the writer ran before the take");
            assertTrue(onA == onB || onA == onB + 1, "A=" + onA + " B=" + onB);
            assertTrue(counter(a) > onA, "the writer went on after the take");
        }
    }

    private static void stamp(FileChannel c, ByteBuffer buf, long n) throws java.io.IOException {
        buf.clear();
        while (buf.hasRemaining()) {
            buf.putLong(n);
        }
        buf.flip();
        c.write(buf, 0);
    }

    private static long counter(Path device) throws java.io.IOException {
        try (FileChannel c = FileChannel.open(device, StandardOpenOption.READ, ExtendedOpenOption.DIRECT)) {
            ByteBuffer buf = Data.aligned(Data.ALIGN);
            c.read(buf, 0);
            return buf.getLong(0);
        }
    }
}
