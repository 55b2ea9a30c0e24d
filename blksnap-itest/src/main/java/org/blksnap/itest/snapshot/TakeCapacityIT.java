package org.blksnap.itest.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;

import org.blksnap.itest.support.LoopDevice;
import org.blksnap.api.CbtInfo;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.SnapshotId;
import org.junit.jupiter.api.Test;

/**
 * A device that grew between SNAPSHOTADD and TAKE (issue 13 item 13): the
 * take rebuilds its CBT map for the new size before it freezes and then
 * switches that map, so the take counts. It used to switch the old map,
 * which the next CTL ioctl threw away with a rebuild: changes_number 0,
 * as if no take had happened.
 */
class TakeCapacityIT {
    private static final long MIB = 1L << 20;

    @Test
    void aDeviceResizedBeforeTheTakeIsTakenAtItsNewSize() throws Exception {
        try (LoopDevice loop = LoopDevice.create(32 * MIB); Rig rig = new Rig()) {
            Path dev = loop.device();
            rig.attach(dev);
            SnapshotId id = rig.create(DiffStorage.directory(Path.of("/tmp")), 1L << 20);
            try (Filter f = Filter.open(dev)) {
                f.snapshotAdd(id);
            }
            loop.resize(64 * MIB);
            rig.blksnap().take(id);
            try (Filter f = Filter.open(dev)) {
                CbtInfo info = f.cbtInfo();
                assertEquals(64 * MIB, info.capacityBytes());
                assertEquals(1, info.changesNumber(), "the take switched the map of the new size");
                Path image = f.snapshotInfo().imagePath().orElseThrow();
                assertEquals(64 * MIB, Data.sizeOf(image));
            }
        }
    }
}
