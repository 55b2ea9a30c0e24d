package org.blksnap.itest.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.blksnap.itest.support.Shell;
import org.blksnap.api.BlkSnap;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.SnapshotId;
import org.junit.jupiter.api.Test;

/**
 * Module unload, as upstream's: it destroys every snapshot and detaches
 * every filter, even right after a session or with a snapshot still taken;
 * only an open image (or the control device held open) keeps the module,
 * through the ordinary module reference, and rmmod then fails at once.
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
    void unloadIsRefusedWhileAnImageIsOpen() throws Exception {
        try (Rig rig = new Rig()) {
            Path loop = rig.loop(32L << 20);
            Path image = rig.snapshot(DiffStorage.directory(Path.of("/tmp")), 1L << 20, loop).get(0);
            try (FileChannel held = FileChannel.open(image, StandardOpenOption.READ)) {
                Shell.Result rmmod = Shell.run("rmmod", "blksnap");
                assertFalse(rmmod.ok(), "rmmod must be refused: " + rmmod.output());
                assertTrue(rmmod.output().contains("in use"), rmmod.output());
                assertTrue(Files.isDirectory(MODULE));
                Data.writeDirect(loop, Data.randomWrites(32L << 20, 10, 61), 62);
                assertEquals(0, Rig.info(loop).errorCode());
                assertTrue(held.size() > 0);
            }
            Data.md5Range(image, 0, 1 << 20);
        } finally {
            ensureLoaded();
        }
    }

    /**
     * A loop device over a scratch file, and on it what user space does
     * for a backup: attach, create, add, take. Closing undoes whatever is
     * left (after a failure) so that the next test starts clean.
     */
    private static final class LoopSession implements AutoCloseable {
        private final Path file;
        private final Path loop;
        private SnapshotId id;

        LoopSession(String name) throws IOException {
            file = Files.createTempFile(name, ".img");
            Shell.sh("truncate", "-s", Long.toString(32L << 20), file.toString());
            loop = Path.of(Shell.sh("losetup", "--find", "--show", file.toString()));
        }

        /** @return the image of the taken snapshot */
        Path take(BlkSnap blksnap, Filter f) throws IOException {
            f.attach();
            id = blksnap.createSnapshot(DiffStorage.directory(Path.of("/tmp")), 1L << 20);
            f.snapshotAdd(id);
            blksnap.take(id);
            return f.snapshotInfo().imagePath().orElseThrow();
        }

        @Override
        public void close() throws IOException {
            try {
                if (Files.isDirectory(MODULE)) {
                    try (BlkSnap blksnap = BlkSnap.open(); Filter f = Filter.open(loop)) {
                        if (id != null && blksnap.collect().contains(id)) {
                            blksnap.destroy(id);
                        }
                        if (f.isAttached()) {
                            f.detach();
                        }
                    }
                }
            } finally {
                Shell.run("losetup", "-d", loop.toString());
                Files.deleteIfExists(file);
                ensureLoaded();
            }
        }
    }

    /** The end of upstream's test scripts: destroy, detach, modprobe -r, nothing in between. */
    @Test
    void unloadRightAfterASession() throws Exception {
        try (LoopSession s = new LoopSession("unload-session")) {
            try (BlkSnap blksnap = BlkSnap.open(); Filter f = Filter.open(s.loop)) {
                Path image = s.take(blksnap, f);
                Data.writeDirect(s.loop, Data.randomWrites(32L << 20, 20, 71), 72);
                Data.md5Range(image, 0, 1 << 20);
                blksnap.destroy(s.id);
                f.detach();
            }
            Shell.Result rmmod = Shell.run("rmmod", "blksnap");
            assertTrue(rmmod.ok(), "rmmod right after destroy and detach: " + rmmod.output());
            assertFalse(Files.isDirectory(MODULE));
        }
    }

    @Test
    void unloadDestroysATakenSnapshotAndDetaches() throws Exception {
        try (LoopSession s = new LoopSession("unload-taken")) {
            Path image;
            try (BlkSnap blksnap = BlkSnap.open(); Filter f = Filter.open(s.loop)) {
                image = s.take(blksnap, f);
            }
            Data.writeDirect(s.loop, Data.randomWrites(32L << 20, 20, 81), 82);
            Shell.Result rmmod = Shell.run("rmmod", "blksnap");
            assertTrue(rmmod.ok(), "rmmod with a taken snapshot and no image open: " + rmmod.output());
            assertFalse(Files.isDirectory(MODULE));
            assertFalse(Files.exists(image), "the image went with the module");
            Data.writeDirect(s.loop, Data.randomWrites(32L << 20, 20, 83), 84);
            ensureLoaded();
            try (BlkSnap blksnap = BlkSnap.open(); Filter f = Filter.open(s.loop)) {
                assertTrue(blksnap.collect().isEmpty(), "a fresh module has no snapshots");
                assertFalse(f.isAttached(), "a fresh module has no filters");
            }
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
