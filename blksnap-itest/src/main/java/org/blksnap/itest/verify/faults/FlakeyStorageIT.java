package org.blksnap.itest.verify.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.DeviceNumber;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.SnapshotEvent;
import org.blksnap.api.SnapshotId;
import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Snapshots;
import org.blksnap.itest.verify.Evidence;
import org.blksnap.itest.verify.Evidence.Tally;
import org.junit.jupiter.api.Test;

/**
 * Difference storage on a dm-flakey device that works at first and then
 * fails every I/O: while it works the image keeps the old data; once it
 * fails the snapshot is corrupted (state, event, image I/O refused) and
 * the original still equals its model byte for byte.
 */
class FlakeyStorageIT {
    private static final int SIZE = 32 << 20;
    private static final String NAME = "blksnap-itest-flakey";

    @Test
    void failingStorageCorruptsTheSnapshotNotTheOriginal() throws Exception {
        try (LoopDevice original = LoopDevice.create(SIZE); LoopDevice backing = LoopDevice.create(SIZE);
                BlkSnap blksnap = BlkSnap.open(); Filter f = Filter.open(original.device())) {
            long sectors = SIZE / 512;
            // Up for an hour, down for a second: healthy for the whole test until reloaded.
            try (DmDevice flakey = DmDevice.create(NAME, table(sectors, backing.path(), 3600, 1))) {
                DeviceModel model = DeviceModel.fill(original.device(), SIZE, 71);
                byte[] atTake = model.copy();
                DeviceNumber number = f.deviceNumber();
                f.attach();
                SnapshotId id = blksnap.createSnapshot(DiffStorage.blockDevice(flakey.node()), sectors);
                try {
                    f.snapshotAdd(id);
                    blksnap.take(id);
                    Evidence.add(Tally.SNAPSHOTS_TAKEN, 1);
                    Path image = f.snapshotInfo().imagePath().orElseThrow();
                    Random rng = new Random(72);

                    // Healthy storage: the first 8 MiB are rewritten and the image keeps them.
                    writeSpread(model, rng, 0, 8 << 20);
                    DeviceModel.verify(image, Arrays.copyOf(atTake, 8 << 20));
                    assertEquals(0, f.snapshotInfo().errorCode(), "healthy storage");

                    // Down for an hour from now on: every bio to the storage fails.
                    flakey.reload(table(sectors, backing.path(), 1, 3600));
                    Thread.sleep(1100);
                    Evidence.fault("dm-flakey storage error");

                    writeSpread(model, rng, 8 << 20, SIZE);
                    model.verify();
                    int error = f.snapshotInfo().errorCode();
                    assertTrue(error < 0, "snapshot not corrupted after storage failure: " + error);
                    Predicate<SnapshotEvent> corrupted = e -> e instanceof SnapshotEvent.Corrupted c
                            && c.errno() == -error && c.major() == number.major() && c.minor() == number.minor();
                    List<SnapshotEvent> events = Snapshots.eventsUntil(blksnap, id, List.of(corrupted));
                    assertTrue(events.stream().anyMatch(corrupted), "corrupted event in " + events);
                    assertThrows(IOException.class, () -> DeviceModel.verify(image, atTake),
                            "the image of a corrupted snapshot must refuse reads");
                } finally {
                    blksnap.destroy(id);
                    f.detach();
                }
            }
        }
    }

    private static String table(long sectors, String device, int upSeconds, int downSeconds) {
        return "0 " + sectors + " flakey " + device + " 0 " + upSeconds + " " + downSeconds;
    }

    /** One 64 KiB write in every 256 KiB of [from, to): a new chunk for the snapshot each time. */
    private static void writeSpread(DeviceModel model, Random rng, long from, long to) throws IOException {
        ByteBuffer buf = DeviceModel.aligned(64 << 10);
        try (FileChannel c = DeviceModel.open(model.device(), StandardOpenOption.WRITE)) {
            for (long at = from; at < to; at += 256 << 10) {
                model.write(c, buf, rng, at, 64 << 10);
            }
        }
    }
}
