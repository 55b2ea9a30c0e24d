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
import org.blksnap.api.BlkSnapException;
import org.blksnap.api.Filter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Unload policy, as upstream's: rmmod succeeds with filters attached and
 * detaches every one of them (tracking starts afresh on the next load);
 * even with I/O in flight through the hooks; and the module loads again.
 */
class UnloadIT {
    private static final long MIB = 1L << 20;

    @AfterEach
    void reload() throws IOException {
        Guest.ensureModuleLoaded();
    }

    @Test
    void unloadDetachesEveryFilter() throws IOException {
        String mark = "blksnap-itest: unloadDetachesEveryFilter";
        Guest.kernelLogMark(mark);
        try (LoopDevice a = LoopDevice.create(16 * MIB); LoopDevice b = LoopDevice.create(16 * MIB)) {
            Cbt.attach(a.device());
            Cbt.attach(b.device());
            BlockIo.writeDirect(a.device(), 0, 16384, (byte) 1);
            Shell.Result r = Shell.run("rmmod", "blksnap");
            assertTrue(r.ok(), "rmmod with filters attached: " + r.output());
            assertFalse(Guest.moduleLoaded());
            assertFalse(Files.exists(Path.of(BlkSnap.CONTROL_DEVICE)));
            // The devices go on without the module.
            BlockIo.writeDirect(a.device(), 0, 16384, (byte) 2);
            assertEquals(16 * MIB, BlockIo.sizeBytes(b.device()), "block ioctls after unload");
            Guest.ensureModuleLoaded();
            try (BlkSnap blksnap = BlkSnap.open()) {
                assertTrue(blksnap.version().major() >= 1);
            }
            assertFalse(Guest.listed(Guest.deviceNumber(a.device())), "a fresh module has no filter attached");
            assertFalse(Guest.listed(Guest.deviceNumber(b.device())), "a fresh module has no filter attached");
            Cbt.attach(a.device());
            Cbt.detach(a.device());
        }
        List<String> log = Guest.kernelLogSince(mark);
        assertEquals(List.of(), Guest.kernelFailures(log), "kernel log: " + log);
    }

    /**
     * rmmod racing BLKFILTER_ATTACH (issue 13 item 7): the hooks go first at
     * exit, so an attach either finished before (and is detached by the
     * exit) or never reaches the module; every unload succeeds, nothing is
     * left attached, and the kernel log stays clean.
     */
    @Test
    void unloadRacingAttach() throws Exception {
        String mark = "blksnap-itest: unloadRacingAttach";
        Guest.kernelLogMark(mark);
        try (LoopDevice loop = LoopDevice.create(16 * MIB)) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong attached = new AtomicLong();
            Thread attacher = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    try (Filter f = Filter.open(loop.device())) {
                        f.attach();
                        attached.incrementAndGet();
                        f.detach();
                    } catch (BlkSnapException e) {
                        // Module away, or attached by the previous round: go on.
                        Thread.onSpinWait();
                    }
                }
            });
            try {
                for (int i = 0; i < 5; i++) {
                    Shell.Result r = Shell.run("rmmod", "blksnap");
                    assertTrue(r.ok(), "rmmod " + i + " while attaching: " + r.output());
                    Guest.ensureModuleLoaded();
                }
            } finally {
                stop.set(true);
                attacher.join();
            }
            assertTrue(attached.get() > 0, "no attach succeeded");
            Shell.sh("rmmod", "blksnap");
            Guest.ensureModuleLoaded();
            assertFalse(Guest.listed(Guest.deviceNumber(loop.device())), "nothing survives an unload");
            Cbt.attach(loop.device());
            Cbt.detach(loop.device());
        }
        List<String> log = Guest.kernelLogSince(mark);
        assertEquals(List.of(), Guest.kernelFailures(log), "kernel log: " + log);
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
