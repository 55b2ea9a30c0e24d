package org.blksnap.itest.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;

import org.blksnap.itest.support.Shell;
import org.blksnap.itest.support.Snapshots;
import org.blksnap.api.DeviceNumber;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.SnapshotEvent;
import org.blksnap.api.sys.Errno;
import org.junit.jupiter.api.Test;

/**
 * When the difference storage runs out, the snapshot breaks and says so,
 * and the original device loses nothing.
 */
class OverflowIT {

    @Test
    void storageExhaustedCorruptsTheSnapshotAndSparesTheOriginal() throws Exception {
        try (Rig rig = new Rig()) {
            Path device = rig.loop(256L << 20);
            DeviceNumber number;
            try (Filter f = Filter.open(device)) {
                number = f.deviceNumber();
            }
            // 4 MiB of storage: 16 chunks of 256 KiB.
            Path image = rig.snapshot(DiffStorage.directory(Path.of("/tmp")), 8192, device).get(0);

            List<Data.Write> writes = Stream.iterate(0L, o -> o + (1L << 20)).limit(64)
                    .map(o -> new Data.Write(o, 1 << 20)).toList();
            Data.writeDirect(device, writes, 31);
            Data.writeDirect(device, writes.subList(0, 8), 32);

            // Every write reached the original, including those after the overflow.
            Path expected = java.nio.file.Files.createTempFile("snap-expect", ".img");
            try {
                Shell.sh("truncate", "-s", Long.toString(64L << 20), expected.toString());
                Data.writeDirect(expected, writes, 31);
                Data.writeDirect(expected, writes.subList(0, 8), 32);
                assertEquals(Data.md5Device(expected), Data.md5Range(device, 0, 64L << 20));
            } finally {
                java.nio.file.Files.deleteIfExists(expected);
            }

            assertEquals(-Errno.ENOSPC, Rig.info(device).errorCode());
            Predicate<SnapshotEvent> noSpace = e -> e instanceof SnapshotEvent.NoSpace ns && ns.requestedSectors() > 0;
            Predicate<SnapshotEvent> corrupted = e -> e instanceof SnapshotEvent.Corrupted c
                    && c.errno() == Errno.ENOSPC && c.major() == number.major() && c.minor() == number.minor();
            List<SnapshotEvent> events = Snapshots.eventsUntil(rig.blksnap(), rig.id(), List.of(noSpace, corrupted));
            assertTrue(events.stream().anyMatch(noSpace), "no_space event in " + events);
            assertTrue(events.stream().anyMatch(corrupted), "corrupted event in " + events);

            assertThrows(IOException.class, () -> Data.md5Range(image, 0, 1 << 20), "image I/O must fail");
            // The original keeps taking writes without stalling on the broken snapshot.
            Data.writeDirect(device, writes.subList(8, 16), 33);
        }
    }
}
