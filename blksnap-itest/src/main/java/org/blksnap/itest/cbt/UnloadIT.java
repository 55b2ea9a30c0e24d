package org.blksnap.itest.cbt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Shell;
import org.blksnap.api.BlkSnap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Unload policy: rmmod is refused while any filter is attached; once all
 * are detached it succeeds, even with I/O in flight through the hooks, and
 * the module loads again.
 */
class UnloadIT {
    private static final long MIB = 1L << 20;

    @AfterEach
    void reload() throws IOException {
        Guest.ensureModuleLoaded();
    }

    @Test
    void refusedWhileAttached() throws IOException {
        try (LoopDevice loop = LoopDevice.create(16 * MIB)) {
            Cbt.attach(loop.device());
            try {
                Shell.Result r = Shell.run("rmmod", "blksnap");
                assertFalse(r.ok(), "rmmod succeeded with a filter attached");
                assertTrue(r.output().contains("in use"), r.output());
                assertTrue(Guest.moduleLoaded());
                assertEquals(16 * MIB, Cbt.info(loop.device()).capacityBytes(), "tracking must go on");
            } finally {
                Cbt.detachQuietly(loop.device());
            }
            Shell.sh("rmmod", "blksnap");
            assertFalse(Files.exists(Path.of(BlkSnap.CONTROL_DEVICE)));
            assertEquals(16 * MIB, BlockIo.sizeBytes(loop.device()), "block ioctls after unload");
            Guest.ensureModuleLoaded();
            try (BlkSnap blksnap = BlkSnap.open()) {
                assertTrue(blksnap.version().major() >= 1);
            }
            Cbt.attach(loop.device());
            Cbt.detach(loop.device());
        }
    }

    /** Writers keep bios flowing through the hooked submit path while the module comes and goes. */
    @Test
    void unloadAndReloadUnderIo() throws Exception {
        String mark = "blksnap-itest: unloadAndReloadUnderIo";
        Guest.kernelLogMark(mark);
        try (LoopDevice loop = LoopDevice.create(64 * MIB)) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong writes = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Path> targets = List.of(loop.device(), Guest.VDA);
            List<Thread> writers = targets.stream().map(dev -> Thread.ofPlatform().start(() -> {
                long offset = 0;
                try {
                    while (!stop.get()) {
                        BlockIo.writeDirect(dev, offset, 16384, (byte) offset);
                        BlockIo.readDirect(dev, offset, 16384);
                        offset = (offset + 1 * MIB) % (32 * MIB);
                        writes.incrementAndGet();
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            })).toList();
            try {
                for (int i = 0; i < 3; i++) {
                    Shell.sh("rmmod", "blksnap");
                    Guest.ensureModuleLoaded();
                }
            } finally {
                stop.set(true);
                for (Thread t : writers) {
                    t.join();
                }
            }
            if (failure.get() != null) {
                throw new AssertionError("writer failed", failure.get());
            }
            assertTrue(writes.get() > 0, "no I/O happened");
        }
        List<String> log = Guest.kernelLogSince(mark);
        assertEquals(List.of(), Guest.kernelFailures(log), "kernel log: " + log);
    }
}
