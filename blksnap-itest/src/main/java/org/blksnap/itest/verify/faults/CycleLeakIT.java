package org.blksnap.itest.verify.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Random;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.SnapshotId;
import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Shell;
import org.blksnap.itest.verify.Evidence;
import org.blksnap.itest.verify.Evidence.Tally;
import org.junit.jupiter.api.Test;

/**
 * Repeated create/add/take/copy-on-write/read/destroy cycles do not grow
 * kernel memory, and unloading the module returns everything it took.
 *
 * <p>Tolerances. A leak in a cycle leaves at least one object per cycle in
 * one slab cache, however small the object: {@value #CYCLES} / 2 objects in
 * each half of the cycles. {@link KernelMemory} lets deferred releases run
 * and shrinks every cache before it counts, so that SLUB's per-cpu slabs do
 * not make counts jump by a slab's worth. Even so, between two readings a
 * cache may move by a few dozen objects, and once by 173 (kmalloc-8, likely
 * the late release of removed image disks' parts), in one burst; so a
 * cache fails the test only if it grew by {@link #LEAK_OBJECTS} / 2 objects
 * or more in BOTH halves (the 9p inode cache of the host root the guest
 * runs from, which follows every file the JVM opens, the LSM blob of
 * every inode and the dentries of those files, excepted). Checked by
 * hand with a module that did not free its struct snapshot: kmalloc-128
 * grew by exactly 100 objects over the 100 cycles and the test failed.
 * Per-cache counts cannot see once-per-load memory, so the unload is judged
 * by totals, as are leaks outside slab: unreclaimable slab may not grow by
 * more than {@link #SLAB_TOTAL} (512 KiB; measured noise under 70 KiB),
 * vmalloc by more than {@link #VMALLOC} (a CBT map or chunk array is 64 KiB
 * and more), shmem (leaked tmpfs storage files, 256 KiB chunks) by more
 * than {@link #SHMEM}.
 */
class CycleLeakIT {
    private static final int CYCLES = 100;
    private static final int WARMUP = 5;
    private static final long LEAK_OBJECTS = CYCLES / 2;
    private static final long SLAB_TOTAL = 512 << 10;
    private static final long VMALLOC = 256 << 10;
    private static final long SHMEM = 1 << 20;
    private static final int SIZE = 32 << 20;

    @Test
    void cyclesLeakNothingAndUnloadReturnsEverything() throws Exception {
        KernelLog log = KernelLog.mark("CycleLeakIT");
        Path dir = Files.createTempDirectory("blksnap-cycles");
        try (LoopDevice loop = LoopDevice.create(SIZE)) {
            DeviceModel model = DeviceModel.fill(loop.device(), SIZE, 111);
            // Load, use and unload once, so that the baseline already holds
            // whatever a module load leaves for good (kernfs, ftrace pages).
            unload();
            ModuleState.ensureLoaded();
            cycles(loop.device(), dir, model, WARMUP);
            unload();
            KernelMemory unloaded = KernelMemory.read();
            ModuleState.ensureLoaded();

            try (Filter f = Filter.open(loop.device())) {
                f.attach();
            }
            cycles(loop.device(), dir, model, WARMUP);
            KernelMemory before = KernelMemory.read();
            String debugBefore = ModuleState.debugfs("memory");
            cycles(loop.device(), dir, model, CYCLES / 2);
            KernelMemory middle = KernelMemory.read();
            cycles(loop.device(), dir, model, CYCLES / 2);
            KernelMemory after = KernelMemory.read();
            assertEquals(debugBefore, ModuleState.debugfs("memory"), "the module's own memory counters");
            assertTrue(ModuleState.debugfs("snapshots").lines().noneMatch(l -> l.startsWith("snapshot ")),
                    "snapshots left: " + ModuleState.debugfs("snapshots"));
            try (Filter f = Filter.open(loop.device())) {
                f.detach();
            }
            unload();
            KernelMemory unloadedAgain = KernelMemory.read();
            ModuleState.ensureLoaded();

            check("after " + CYCLES + " cycles", before, after);
            // A leak grows with the cycles, in each half; a late release of
            // something (a removed disk's parts) shows up once.
            Map<String, Long> first = middle.slabsGrownSince(before, LEAK_OBJECTS / 2);
            Map<String, Long> second = after.slabsGrownSince(middle, LEAK_OBJECTS / 2);
            first.keySet().retainAll(second.keySet());
            // The guest runs from the host root over 9p: its inode cache moves
            // with every file the JVM or a command opens, not with the module,
            // and so does lsm_inode_cache, which holds the security blob of
            // every inode of every file system (measured: +66 and +159 in a
            // CI run, beside the 9p inodes). An inode the module leaked would
            // still show in its own cache (bdev_cache for image disks,
            // shmem_inode_cache for storage files), which stay checked.
            // The dentry cache follows them: a path resolved on the 9p root
            // stays pinned while its inode lives (measured 2026-12-02: +43 in
            // both halves inside the whole suite, +42 and 0 for the same
            // module alone, beside lsm_inode_cache +78). A dentry the module
            // leaked (debugfs, a storage file) would pin an inode of its own
            // cache (inode_cache, shmem_inode_cache), which stays checked.
            first.keySet().removeIf(cache -> cache.startsWith("v9fs_") || cache.equals("lsm_inode_cache")
                    || cache.equals("dentry"));
            System.out.println("CycleLeakIT: grown in the first half " + middle.slabsGrownSince(before, 10)
                    + ", in the second " + after.slabsGrownSince(middle, 10));
            assertEquals(Map.of(), first, "slab caches grew by a quarter object per cycle or more in both halves");
            // Per-cycle leaks show above; what unload must return is the
            // module's own once-per-load memory, which no per-cache object
            // count can see, so the totals judge it.
            check("after unload", unloaded, unloadedAgain);
            model.verify();
        } finally {
            ModuleState.ensureLoaded();
            Shell.run("rm", "-rf", dir.toString());
        }
        assertEquals(java.util.List.of(), log.failures(), "kernel log");
    }

    private static void check(String when, KernelMemory before, KernelMemory after) {
        Map<String, Long> growth = after.growthSince(before);
        System.out.println("CycleLeakIT " + when + ": meminfo growth " + growth + ", caches grown by 10+ objects: "
                + after.slabsGrownSince(before, 10));
        assertTrue(growth.get("SUnreclaim") <= SLAB_TOTAL, when + ": unreclaimable slab grew " + growth);
        assertTrue(growth.get("VmallocUsed") <= VMALLOC, when + ": vmalloc grew " + growth);
        assertTrue(growth.get("Shmem") <= SHMEM, when + ": shmem grew " + growth);
    }

    private static void unload() throws IOException {
        Shell.Result r = Shell.run("rmmod", "blksnap");
        assertTrue(r.ok(), "rmmod blksnap: " + r.output());
    }

    /** Create, add, take, change a chunk of the original, read it from the image, destroy. */
    private static void cycles(Path device, Path dir, DeviceModel model, int n) throws IOException {
        Random rng = new Random(n);
        ByteBuffer buf = DeviceModel.aligned(64 << 10);
        boolean attached;
        try (Filter f = Filter.open(device)) {
            attached = f.isAttached();
            if (!attached) {
                f.attach();
            }
        }
        try (BlkSnap blksnap = BlkSnap.open(); Filter f = Filter.open(device);
                FileChannel c = DeviceModel.open(device, StandardOpenOption.WRITE)) {
            for (int i = 0; i < n; i++) {
                SnapshotId id = blksnap.createSnapshot(DiffStorage.directory(dir), 1L << 14);
                try {
                    f.snapshotAdd(id);
                    blksnap.take(id);
                    Evidence.add(Tally.SNAPSHOTS_TAKEN, 1);
                    Path image = f.snapshotInfo().imagePath().orElseThrow();
                    int at = rng.nextInt(SIZE / (256 << 10)) * (256 << 10);
                    byte[] old = model.range(at, 64 << 10);
                    model.write(c, buf, rng, at, 64 << 10);
                    byte[] seen = read(image, at, 64 << 10);
                    NormalSnapshot.assertSame(image + " at byte " + at, old, seen);
                } finally {
                    blksnap.destroy(id);
                }
            }
        }
        if (!attached) {
            try (Filter f = Filter.open(device)) {
                f.detach();
            }
        }
    }

    private static byte[] read(Path image, long at, int length) throws IOException {
        ByteBuffer b = DeviceModel.aligned(length);
        try (FileChannel c = DeviceModel.open(image, StandardOpenOption.READ)) {
            while (b.hasRemaining() && c.read(b, at + b.position()) > 0) {
                // until full
            }
        }
        byte[] out = new byte[length];
        b.flip().get(out);
        return out;
    }
}
