package org.blksnap.itest.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Path;

import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.SnapshotId;
import org.junit.jupiter.api.Test;

/**
 * Writes to a snapshot image (a journal replayed on mount) change what a
 * backup made from the image holds, without touching the original. The
 * CBT map must count those blocks as changed both for this backup and for
 * the next incremental, which has to read the original there again.
 */
class ImageWriteCbtIT {
    private static final DiffStorage TMP = DiffStorage.directory(Path.of("/tmp"));
    private static final long WRITTEN = 32L << 20;

    @Test
    void aBlockWrittenOnlyInTheImageIsChangedForThisBackupAndTheNext() throws Exception {
        try (Rig rig = new Rig()) {
            Path device = rig.loop(64L << 20);
            Data.writeFill(device, WRITTEN, 4096, 0x11);
            Path image = rig.snapshot(TMP, 1L << 20, device).get(0);
            int block;
            int first;
            try (Filter f = Filter.open(device)) {
                first = f.cbtInfo().changesNumber();
                block = (int) (WRITTEN / f.cbtInfo().blockSize());
                assertNotEquals(first, f.readCbtMap()[block], "nothing wrote the block since the filter came");
            }

            Data.writeFill(image, WRITTEN, 4096, 0x77);
            assertEquals("77", Data.fillOf(image, WRITTEN, 4096));
            assertEquals("11", Data.fillOf(device, WRITTEN, 4096), "the original is untouched");
            try (Filter f = Filter.open(device)) {
                assertEquals(first, f.readCbtMap()[block], "the backup of this take reads the block");
            }

            rig.blksnap().destroy(rig.id());
            SnapshotId next = rig.create(TMP, 1L << 20);
            try (Filter f = Filter.open(device)) {
                f.snapshotAdd(next);
            }
            rig.blksnap().take(next);
            try (Filter f = Filter.open(device)) {
                assertEquals(first + 1, f.cbtInfo().changesNumber());
                assertEquals(first + 1, f.readCbtMap()[block],
                        "the next incremental reads the block again: the last backup holds the image's data");
            }
        }
    }
}
