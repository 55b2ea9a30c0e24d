package org.blksnap.itest.support;

import java.io.IOException;
import java.util.List;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.SnapshotId;

/** The module's snapshot list, for tests that must leave none behind. */
public final class Snapshots {
    private Snapshots() {
    }

    public static List<SnapshotId> list() throws IOException {
        try (BlkSnap blksnap = BlkSnap.open()) {
            return blksnap.collect();
        }
    }

    /** Destroys whatever a failed test left behind, so it cannot break the next one. */
    public static void destroyAll() throws IOException {
        try (BlkSnap blksnap = BlkSnap.open()) {
            for (SnapshotId id : blksnap.collect()) {
                blksnap.destroy(id);
            }
        }
    }
}
