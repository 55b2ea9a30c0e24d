package org.blksnap.itest.verify.integrity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Snapshots;
import org.blksnap.itest.verify.Knobs;
import org.blksnap.itest.verify.StampedRun;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Writers stamp two loop devices and a virtio disk in lockstep (a request
 * goes to the next device only once the previous one acknowledged it, with
 * the same sequence number) while snapshots of all three are taken at
 * once. Besides each image matching the model, all three must show one
 * point in time: none may hold a block older than a write that was
 * acknowledged before a request whose stamp another image shows was issued.
 */
class ConsistentCutIT {
    private static final Knobs KNOBS = Knobs.current();

    @AfterEach
    void noSnapshotLeft() throws Exception {
        Snapshots.destroyAll();
    }

    @Test
    void threeDevicesWrittenInLockstepShowOnePointInTime() throws Exception {
        long bytes = (long) Math.max(8, KNOBS.deviceMiB() / 2) << 20;
        try (LoopDevice a = LoopDevice.create(bytes);
                LoopDevice b = LoopDevice.create(bytes + (5L << 20));
                StampedRun run = new StampedRun("lockstep", List.of(a.device(), b.device(), Path.of("/dev/vdc")),
                        bytes, true)) {
            run.run(KNOBS, KNOBS.deadline(0.25));
            assertTrue(run.takes() >= 1 && run.workload().requests() > 0, "the workload and the takes ran");
        }
    }
}
