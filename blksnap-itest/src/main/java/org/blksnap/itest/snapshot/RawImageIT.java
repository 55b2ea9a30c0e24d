package org.blksnap.itest.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.blksnap.itest.support.Shell;
import org.blksnap.api.DiffStorage;
import org.junit.jupiter.api.Test;

/** The image, byte for byte, against a copy of the device made at the take. */
class RawImageIT {
    /** The part of /dev/vdb the tests write and compare, to keep the guest quick. */
    private static final int AREA_MIB = 256;
    private static final long AREA = (long) AREA_MIB << 20;

    @Test
    void randomDirectWritesLeaveTheImageEqualToACopyAtTake() throws Exception {
        try (Rig rig = new Rig()) {
            Path device = GuestOs.VDB;
            Data.writeDirect(device, Data.randomWrites(AREA, 200, 1), 2);
            Path copy = Files.createTempFile("snap-copy", ".img");
            try {
                Data.copyDevice(device, copy, AREA_MIB);
                Path image = rig.snapshot(DiffStorage.directory(Path.of("/tmp")), 1L << 22, device).get(0);

                List<Data.Write> writes = Data.randomWrites(AREA, 400, 3);
                Data.writeDirect(device, writes, 4);
                // Some writes land on chunks already copied: both cases are covered.
                Data.writeDirect(device, writes.subList(0, 100), 5);
                String expected = Data.md5Device(copy);
                assertNotEquals(expected, Data.md5Range(device, 0, AREA));
                assertEquals(expected, Data.md5Range(image, 0, AREA));
                assertEquals(0, Rig.info(device).errorCode());
            } finally {
                Files.deleteIfExists(copy);
            }
        }
    }

    @Test
    void discardsAndZeroingAreCopiedBeforeTheyChangeTheOriginal() throws Exception {
        try (Rig rig = new Rig()) {
            Path device = rig.loop(128L << 20);
            Data.writeDirect(device, List.of(new Data.Write(0, 1 << 20), new Data.Write(32L << 20, 1 << 20),
                    new Data.Write(64L << 20, 1 << 20)), 9);
            String atTake = Data.md5Device(device);
            Path image = rig.snapshot(DiffStorage.directory(Path.of("/tmp")), 1L << 20, device).get(0);

            Shell.sh("blkdiscard", "-o", "0", "-l", Long.toString(2L << 20), device.toString());
            Shell.sh("blkdiscard", "-z", "-o", Long.toString(32L << 20), "-l", Long.toString(1L << 20),
                    device.toString());
            Shell.sh("fallocate", "-p", "-o", Long.toString(64L << 20), "-l", Long.toString(1L << 20),
                    device.toString());
            assertNotEquals(atTake, Data.md5Device(device));
            assertEquals(atTake, Data.md5Device(image));
        }
    }

    @Test
    void writesToTheImageNeverReachTheOriginal() throws Exception {
        try (Rig rig = new Rig()) {
            Path device = GuestOs.VDB;
            Data.writeDirect(device, Data.randomWrites(AREA, 50, 11), 12);
            Path image = rig.snapshot(DiffStorage.directory(Path.of("/tmp")), 1L << 22, device).get(0);
            String original = Data.md5Range(device, 0, AREA);

            List<Data.Write> writes = Data.randomWrites(AREA, 100, 13);
            Data.writeDirect(image, writes, 14);
            assertEquals(original, Data.md5Range(device, 0, AREA));

            // The image keeps what was written to it: replay the same data on a copy.
            Path copy = Files.createTempFile("snap-copy", ".img");
            try {
                Data.copyDevice(device, copy, AREA_MIB);
                Data.writeDirect(copy, writes, 14);
                assertEquals(Data.md5Device(copy), Data.md5Range(image, 0, AREA));
            } finally {
                Files.deleteIfExists(copy);
            }
            assertEquals(0, Rig.info(device).errorCode());
        }
    }
}
