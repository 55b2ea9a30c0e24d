package org.blksnap.itest.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /**
     * On a virtio disk, which takes discard and write-zeroes requests on every kernel (a
     * loop device takes write-zeroes only where its backing file system can zero a range):
     * blkdiscard sends REQ_OP_DISCARD, blkdiscard -z REQ_OP_WRITE_ZEROES that must not unmap,
     * and fallocate's hole punch REQ_OP_WRITE_ZEROES that may.
     */
    @Test
    void discardsAndZeroingAreCopiedBeforeTheyChangeTheOriginal() throws Exception {
        try (Rig rig = new Rig()) {
            Path device = GuestOs.VDB;
            String queue = "/sys/block/" + device.getFileName() + "/queue/";
            assertTrue(Long.parseLong(Files.readString(Path.of(queue + "discard_max_bytes")).strip()) > 0,
                    device + " takes discards");
            assertTrue(Long.parseLong(Files.readString(Path.of(queue + "write_zeroes_max_bytes")).strip()) > 0,
                    device + " takes write-zeroes");
            long area = 128L << 20;
            Data.writeDirect(device, List.of(new Data.Write(0, 1 << 20), new Data.Write(32L << 20, 1 << 20),
                    new Data.Write(64L << 20, 1 << 20)), 9);
            String atTake = Data.md5Range(device, 0, area);
            Path image = rig.snapshot(DiffStorage.directory(Path.of("/tmp")), 1L << 20, device).get(0);

            Shell.sh("blkdiscard", "-o", "0", "-l", Long.toString(2L << 20), device.toString());
            Shell.sh("blkdiscard", "-z", "-o", Long.toString(32L << 20), "-l", Long.toString(1L << 20),
                    device.toString());
            Shell.sh("fallocate", "-p", "-o", Long.toString(64L << 20), "-l", Long.toString(1L << 20),
                    device.toString());
            assertNotEquals(atTake, Data.md5Range(device, 0, area));
            assertEquals(atTake, Data.md5Range(image, 0, area));
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
