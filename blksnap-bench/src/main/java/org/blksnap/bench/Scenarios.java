package org.blksnap.bench;

import java.util.List;

/** The scenarios of a run, in order: later ones use figures of earlier ones. */
final class Scenarios {
    private Scenarios() {
    }

    static List<Scenario> all() {
        return List.of(
                new BareDevice(),
                new TrackerAttached(),
                new SnapshotWrites(),
                new DmSnapshotWrites(),
                new ImageReads(),
                new TakeLatency(),
                new MemoryCounters(),
                new BackupFigures(),
                new SameDiskStorage(),
                new ServedReads(),
                new MountedReads());
    }
}
