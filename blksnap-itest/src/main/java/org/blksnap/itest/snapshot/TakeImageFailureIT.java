package org.blksnap.itest.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.blksnap.itest.support.Shell;
import org.blksnap.api.BlkSnap;
import org.blksnap.api.BlkSnapException;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.SnapshotId;
import org.blksnap.api.SnapshotInfo;
import org.blksnap.api.sys.Errno;
import org.junit.jupiter.api.Test;

/**
 * A take whose image cannot be created (issue 13 item 8). The policy: the
 * take has happened (copy-on-write runs, the CBT maps switched), so TAKE
 * returns 0 and the device without an image is marked corrupted with the
 * reason, which SNAPSHOTINFO and the corrupted event report. Made to
 * happen for real: the image name is taken by an image of the same device
 * number, left by a snapshot whose loop device was detached and reused.
 */
class TakeImageFailureIT {
    private static final DiffStorage TMP = DiffStorage.directory(Path.of("/tmp"));

    @Test
    void takeSucceedsAndTheDeviceWithoutImageIsCorrupted() throws Exception {
        List<Path> files = new ArrayList<>();
        List<SnapshotId> snapshots = new ArrayList<>();
        Path loop = null;
        try (BlkSnap blksnap = BlkSnap.open()) {
            for (int i = 0; i < 2; i++) {
                Path f = Files.createTempFile("take-image", ".img");
                files.add(f);
                Shell.sh("truncate", "-s", Long.toString(32L << 20), f.toString());
            }
            loop = Path.of(Shell.sh("losetup", "--find", "--show", files.get(0).toString()));
            SnapshotId first = takeOn(blksnap, loop, snapshots);
            String image;
            try (Filter f = Filter.open(loop)) {
                image = f.snapshotInfo().image();
            }
            assertTrue(Files.exists(Path.of("/dev", image)), image);
            // The original goes away; its snapshot (and image) stay until destroyed.
            Shell.sh("losetup", "-d", loop.toString());
            Shell.sh("losetup", loop.toString(), files.get(1).toString());

            SnapshotId second = takeOn(blksnap, loop, snapshots);
            try (Filter f = Filter.open(loop)) {
                SnapshotInfo info = f.snapshotInfo();
                assertEquals(-Errno.EEXIST, info.errorCode(), "the reason the image is missing: " + info);
                assertTrue(info.imagePath().isEmpty(), info.toString());
            }
            Data.writeDirect(loop, Data.randomWrites(32L << 20, 10, 91), 92);
            BlkSnapException again = assertThrows(BlkSnapException.class, () -> blksnap.take(second));
            assertEquals(Errno.EALREADY, again.errno(), again.getMessage());
            assertTrue(blksnap.collect().contains(first));
        } finally {
            try (BlkSnap blksnap = BlkSnap.open()) {
                for (SnapshotId id : snapshots) {
                    if (blksnap.collect().contains(id)) {
                        blksnap.destroy(id);
                    }
                }
            }
            if (loop != null) {
                try (Filter f = Filter.open(loop)) {
                    if (f.isAttached()) {
                        f.detach();
                    }
                } catch (BlkSnapException e) {
                    // Not bound any more: nothing attached.
                }
                Shell.run("losetup", "-d", loop.toString());
            }
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
        }
    }

    /** Attach, create, add, take, as user space does; the snapshot is recorded for cleanup first. */
    private static SnapshotId takeOn(BlkSnap blksnap, Path loop, List<SnapshotId> snapshots) throws Exception {
        try (Filter f = Filter.open(loop)) {
            f.attach();
            SnapshotId id = blksnap.createSnapshot(TMP, 1L << 20);
            snapshots.add(id);
            f.snapshotAdd(id);
            blksnap.take(id);
            return id;
        }
    }
}
