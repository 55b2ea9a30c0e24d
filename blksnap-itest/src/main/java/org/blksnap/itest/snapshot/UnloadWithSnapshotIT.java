package org.blksnap.itest.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.blksnap.itest.support.Shell;
import org.blksnap.api.BlkSnap;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.SnapshotId;
import org.junit.jupiter.api.Test;

/**
 * Module unload: refused while a device is in a snapshot (attached filters
 * pin the module); snapshots without devices are destroyed by the unload.
 */
class UnloadWithSnapshotIT {
    private static final Path MODULE = Path.of("/sys/module/blksnap");

    private static void ensureLoaded() throws IOException {
        if (Files.isDirectory(MODULE)) {
            return;
        }
        String ko = System.getenv("BLKSNAP_KO");
        if (ko == null || ko.isEmpty()) {
            throw new IOException("BLKSNAP_KO is not set: cannot reload blksnap.ko");
        }
        Shell.sh("insmod", ko);
    }

    @Test
    void unloadIsRefusedWhileADeviceIsInATakenSnapshot() throws Exception {
        try (Rig rig = new Rig()) {
            Path loop = rig.loop(32L << 20);
            Path image = rig.snapshot(DiffStorage.directory(Path.of("/tmp")), 1L << 20, loop).get(0);
            Shell.Result rmmod = Shell.run("rmmod", "blksnap");
            assertFalse(rmmod.ok(), "rmmod must be refused: " + rmmod.output());
            assertTrue(Files.isDirectory(MODULE));
            Data.writeDirect(loop, Data.randomWrites(32L << 20, 10, 61), 62);
            assertEquals(0, Rig.info(loop).errorCode());
            Data.md5Range(image, 0, 1 << 20);
        } finally {
            ensureLoaded();
        }
    }

    @Test
    void unloadDestroysSnapshotsWithoutDevices() throws Exception {
        try {
            try (BlkSnap blksnap = BlkSnap.open()) {
                SnapshotId id = blksnap.createSnapshot(DiffStorage.directory(Path.of("/tmp")), 1L << 20);
                assertTrue(blksnap.collect().contains(id));
            }
            Shell.sh("rmmod", "blksnap");
            assertFalse(Files.isDirectory(MODULE));
        } finally {
            ensureLoaded();
        }
        try (BlkSnap blksnap = BlkSnap.open()) {
            assertTrue(blksnap.collect().isEmpty(), "a fresh module has no snapshots");
        }
    }
}
