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
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.DeviceNumber;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.SnapshotEvent;
import org.blksnap.api.SnapshotId;
import org.blksnap.api.sys.Errno;
import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Shell;
import org.blksnap.itest.support.Snapshots;
import org.blksnap.itest.verify.Evidence;
import org.blksnap.itest.verify.Evidence.Tally;
import org.junit.jupiter.api.Test;

/**
 * Difference storage overflow under a write storm: several writers hammer
 * the original of a snapshot whose storage holds a few chunks only. The
 * no_space and corrupted events arrive, the snapshot reports -ENOSPC, the
 * image refuses I/O, the original equals its model byte for byte, and no
 * writer stalls.
 */
class WriteStormIT {
    private static final int SIZE = 64 << 20;
    private static final int WRITERS = 4;
    private static final int WRITES_EACH = 200;
    /** 4 MiB: room for 16 chunks of 256 KiB; the storm touches far more. */
    private static final long LIMIT_SECTORS = 8192;
    /**
     * A correctness bound, not a performance target: under TCG a 64 KiB
     * write takes milliseconds, a copy-on-write a few hundred; a write held
     * this long means a writer is stuck behind the broken snapshot.
     */
    private static final long STALL_MS = 20_000;

    @Test
    void overflowCorruptsTheSnapshotNeverTheOriginalNorItsWriters() throws Exception {
        Path dir = Files.createTempDirectory("blksnap-storm");
        try (LoopDevice loop = LoopDevice.create(SIZE); BlkSnap blksnap = BlkSnap.open();
                Filter f = Filter.open(loop.device())) {
            DeviceModel model = DeviceModel.fill(loop.device(), SIZE, 61);
            DeviceNumber number = f.deviceNumber();
            f.attach();
            SnapshotId id = blksnap.createSnapshot(DiffStorage.directory(dir), LIMIT_SECTORS);
            try {
                f.snapshotAdd(id);
                blksnap.take(id);
                Evidence.add(Tally.SNAPSHOTS_TAKEN, 1);
                Path image = f.snapshotInfo().imagePath().orElseThrow();

                long worstMs = storm(model);
                Evidence.fault("difference storage overflow (write storm)");
                System.out.println("WriteStormIT: longest write " + worstMs + " ms");
                assertTrue(worstMs < STALL_MS, "a write was held " + worstMs + " ms");

                assertEquals(-Errno.ENOSPC, f.snapshotInfo().errorCode(), "snapshot state after the overflow");
                Predicate<SnapshotEvent> noSpace = e -> e instanceof SnapshotEvent.NoSpace ns
                        && ns.requestedSectors() > 0;
                Predicate<SnapshotEvent> corrupted = e -> e instanceof SnapshotEvent.Corrupted c
                        && c.errno() == Errno.ENOSPC && c.major() == number.major() && c.minor() == number.minor();
                List<SnapshotEvent> events = Snapshots.eventsUntil(blksnap, id, List.of(noSpace, corrupted));
                assertTrue(events.stream().anyMatch(noSpace), "no_space event in " + events);
                assertTrue(events.stream().anyMatch(corrupted), "corrupted event in " + events);
                assertThrows(IOException.class, () -> DeviceModel.verify(image, new byte[1 << 20]),
                        "the image of a corrupted snapshot must refuse reads");
                model.verify();
            } finally {
                blksnap.destroy(id);
                f.detach();
            }
        } finally {
            Shell.run("rm", "-rf", dir.toString());
        }
    }

    /** Runs the writers, each on its own stripe; returns the longest single write in ms. */
    private static long storm(DeviceModel model) throws Exception {
        AtomicLong worst = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        int stripe = SIZE / WRITERS;
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            int base = w * stripe;
            Random rng = new Random(100 + w);
            writers.add(Thread.ofPlatform().start(() -> {
                ByteBuffer buf = DeviceModel.aligned(64 << 10);
                try (FileChannel c = DeviceModel.open(model.device(), StandardOpenOption.WRITE)) {
                    for (int i = 0; i < WRITES_EACH; i++) {
                        int length = DeviceModel.BLOCK << rng.nextInt(5);
                        long offset = base + (long) rng.nextInt((stripe - length) / DeviceModel.BLOCK)
                                * DeviceModel.BLOCK;
                        long t0 = System.nanoTime();
                        model.write(c, buf, rng, offset, length);
                        worst.accumulateAndGet((System.nanoTime() - t0) / 1_000_000, Math::max);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }));
        }
        for (Thread t : writers) {
            t.join(10 * STALL_MS);
            assertFalse(t.isAlive(), "a writer is stuck");
        }
        if (failure.get() != null) {
            throw new AssertionError("a write to the original failed", failure.get());
        }
        return worst.get();
    }
}
