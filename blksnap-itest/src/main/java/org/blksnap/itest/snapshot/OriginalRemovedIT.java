package org.blksnap.itest.snapshot;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import org.blksnap.itest.support.Shell;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.SnapshotEvent;
import org.blksnap.api.sys.Errno;
import org.junit.jupiter.api.Test;

/** The original device of a taken snapshot goes away. */
class OriginalRemovedIT {

    @Test
    void loopDetachedUnderATakenSnapshotCorruptsIt() throws Exception {
        try (Rig rig = new Rig()) {
            Path device = rig.loop(64L << 20);
            Path image = rig.snapshot(DiffStorage.directory(Path.of("/tmp")), 1L << 20, device).get(0);
            Data.writeDirect(device, Data.randomWrites(64L << 20, 20, 51), 52);

            Shell.sh("losetup", "-d", device.toString());

            Optional<SnapshotEvent> event = rig.blksnap().waitEvent(rig.id(), Duration.ofSeconds(10));
            assertTrue(event.isPresent(), "an event must report the loss");
            assertTrue(event.get() instanceof SnapshotEvent.Corrupted c && c.errno() == Errno.ENODEV,
                    event.get().toString());
            assertThrows(IOException.class, () -> Data.md5Range(image, 0, 1 << 20));
            rig.blksnap().destroy(rig.id());
        }
    }
}
