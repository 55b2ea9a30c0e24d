package org.blksnap.itest.cbt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import org.blksnap.itest.support.LoopDevice;
import org.blksnap.api.BlkSnapException;
import org.blksnap.api.SectorRange;
import org.blksnap.api.sys.Errno;
import org.junit.jupiter.api.Test;

/**
 * CBTDIRTY marks the write map with the active number and the read map
 * with the reported one, at block granularity; a range past the end is
 * refused and nothing of the request is marked.
 */
class CbtDirtyIT {
    private static final long MIB = 1L << 20;

    @Test
    void marksBothMaps() throws IOException {
        try (LoopDevice loop = LoopDevice.create(32 * MIB)) {
            Path dev = loop.device();
            Cbt.attach(dev);
            try {
                long bsSectors = Cbt.info(dev).blockSize() / 512;
                int blocks = Cbt.info(dev).blockCount();
                Guest.cbtSwitch(dev);
                assertEquals(1, Cbt.info(dev).changesNumber());

                // One sector in block 3; two sectors straddling blocks 7 and 8;
                // the last sector of the device.
                Cbt.markDirty(dev, List.of(new SectorRange(3 * bsSectors + 5, 1),
                        new SectorRange(8 * bsSectors - 1, 2),
                        new SectorRange(blocks * bsSectors - 1, 1)));
                byte[] expected = new byte[blocks];
                expected[3] = 1;
                expected[7] = 1;
                expected[8] = 1;
                expected[blocks - 1] = 1;
                byte[] now = Cbt.map(dev);
                assertArrayEquals(expected, now, () -> "read map:" + Cbt.diff(expected, now));

                Guest.cbtSwitch(dev);
                expected[3] = 2;
                expected[7] = 2;
                expected[8] = 2;
                expected[blocks - 1] = 2;
                byte[] next = Cbt.map(dev);
                assertArrayEquals(expected, next, () -> "after take:" + Cbt.diff(expected, next));
            } finally {
                Cbt.detachQuietly(dev);
            }
        }
    }

    @Test
    void beforeAnyTakeOnlyTheWriteMapChanges() throws IOException {
        try (LoopDevice loop = LoopDevice.create(16 * MIB)) {
            Path dev = loop.device();
            Cbt.attach(dev);
            try {
                int blocks = Cbt.info(dev).blockCount();
                Cbt.markDirty(dev, List.of(new SectorRange(0, 1)));
                assertArrayEquals(new byte[blocks], Cbt.map(dev), "reported number 0 must leave the read map");
                Guest.cbtSwitch(dev);
                assertEquals(1, Cbt.map(dev)[0]);
            } finally {
                Cbt.detachQuietly(dev);
            }
        }
    }

    @Test
    void pastCapacityIsRefusedAndMarksNothing() throws IOException {
        try (LoopDevice loop = LoopDevice.create(16 * MIB)) {
            Path dev = loop.device();
            Cbt.attach(dev);
            try {
                long sectors = 16 * MIB / 512;
                int blocks = Cbt.info(dev).blockCount();
                for (SectorRange bad : List.of(new SectorRange(sectors, 1), new SectorRange(sectors - 1, 2),
                        new SectorRange(0, sectors + 1), new SectorRange(Long.MAX_VALUE - 1, 1))) {
                    BlkSnapException e = assertThrows(BlkSnapException.class,
                            () -> Cbt.markDirty(dev, List.of(new SectorRange(0, 1), bad)), bad::toString);
                    assertEquals(Errno.EINVAL, e.errno(), bad::toString);
                }
                Guest.cbtSwitch(dev);
                assertArrayEquals(new byte[blocks], Cbt.map(dev), "refused requests must not have marked anything");

                Cbt.markDirty(dev, List.of(new SectorRange(0, sectors)));
                byte[] all = new byte[blocks];
                java.util.Arrays.fill(all, (byte) 1);
                assertArrayEquals(all, Cbt.map(dev), "the whole device may be marked");
            } finally {
                Cbt.detachQuietly(dev);
            }
        }
    }
}
