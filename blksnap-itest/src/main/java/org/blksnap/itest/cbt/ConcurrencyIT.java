package org.blksnap.itest.cbt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.blksnap.itest.support.LoopDevice;
import org.blksnap.api.BlkSnapException;
import org.junit.jupiter.api.Test;

/**
 * Attach, detach, takes, map reads and capacity changes racing with writes:
 * no kernel failure, and tracking is exact once the dust settles.
 */
class ConcurrencyIT {
    private static final long MIB = 1L << 20;

    private interface Step {
        void run() throws Exception;
    }

    private static Thread loop(AtomicBoolean stop, AtomicReference<Throwable> failure, AtomicLong count, Step step) {
        return Thread.ofPlatform().start(() -> {
            try {
                while (!stop.get()) {
                    step.run();
                    count.incrementAndGet();
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        });
    }

    @Test
    void controlRacesWithIo() throws Exception {
        String mark = "blksnap-itest: controlRacesWithIo";
        Guest.kernelLogMark(mark);
        try (LoopDevice loop = LoopDevice.create(64 * MIB)) {
            Path dev = loop.device();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong writes = new AtomicLong();
            AtomicLong cycles = new AtomicLong();
            AtomicLong resizes = new AtomicLong();
            long[] offset = {0};
            List<Thread> threads = List.of(
                    loop(stop, failure, writes, () -> {
                        BlockIo.writeDirect(dev, offset[0], 65536, (byte) 1);
                        offset[0] = (offset[0] + 3 * 65536) % (48 * MIB);
                    }),
                    loop(stop, failure, cycles, () -> {
                        Cbt.attach(dev);
                        Guest.cbtSwitch(dev);
                        Cbt.map(dev);
                        Cbt.detach(dev);
                    }),
                    loop(stop, failure, resizes, () -> {
                        loop.resize(resizes.get() % 2 == 0 ? 96 * MIB : 64 * MIB);
                        try {
                            Cbt.info(dev);
                        } catch (BlkSnapException e) {
                            // Not attached at this instant: fine.
                        }
                    }));
            Thread.sleep(20_000);
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
            Cbt.detachQuietly(dev);
            if (failure.get() != null) {
                throw new AssertionError("a worker failed", failure.get());
            }
            assertTrue(writes.get() > 0 && cycles.get() > 0 && resizes.get() > 0,
                    "writes " + writes + " cycles " + cycles + " resizes " + resizes);

            Cbt.attach(dev);
            try {
                long bs = Cbt.info(dev).blockSize();
                BlockIo.writeDirect(dev, 7 * bs, 4096, (byte) 2);
                Guest.cbtSwitch(dev);
                byte[] map = Cbt.map(dev);
                byte[] expected = new byte[map.length];
                expected[7] = 1;
                org.junit.jupiter.api.Assertions.assertArrayEquals(expected, map, () -> Cbt.diff(expected, map));
            } finally {
                Cbt.detachQuietly(dev);
            }
        }
        List<String> log = Guest.kernelLogSince(mark);
        assertEquals(List.of(), Guest.kernelFailures(log), "kernel log: " + log);
    }
}
