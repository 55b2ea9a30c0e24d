package org.blksnap.itest.cbt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.IOException;
import java.nio.file.Path;

import org.blksnap.itest.support.LoopDevice;
import org.blksnap.api.CbtInfo;
import org.junit.jupiter.api.Test;

/**
 * A tracked device that changes size gets a map for the new size in a new
 * generation, and tracking goes on over the whole new extent.
 */
class CapacityChangeIT {
    private static final long MIB = 1L << 20;

    private static void resizeAndCheck(long from, long to) throws IOException {
        try (LoopDevice loop = LoopDevice.create(from)) {
            Path dev = loop.device();
            Cbt.attach(dev);
            try {
                BlockIo.writeDirect(dev, 0, 4096, (byte) 1);
                Guest.cbtSwitch(dev);
                CbtInfo old = Cbt.info(dev);
                assertEquals(1, old.changesNumber());

                loop.resize(to);
                CbtInfo now = Cbt.info(dev);
                assertEquals(to, now.capacityBytes());
                assertEquals(Math.ceilDiv(to, now.blockSize()), now.blockCount());
                assertNotEquals(old.generationId(), now.generationId(), "a resize must start a new generation");
                assertEquals(0, now.changesNumber());
                assertArrayEquals(new byte[now.blockCount()], Cbt.map(dev));

                long last = to - 4096;
                BlockIo.writeDirect(dev, last, 4096, (byte) 2);
                Guest.cbtSwitch(dev);
                byte[] map = Cbt.map(dev);
                assertEquals(1, map[(int) (last / now.blockSize())], "write at the new end not tracked");
                assertEquals(now.generationId(), Cbt.info(dev).generationId());
            } finally {
                Cbt.detachQuietly(dev);
            }
        }
    }

    @Test
    void grow() throws IOException {
        resizeAndCheck(32 * MIB, 80 * MIB);
    }

    @Test
    void shrink() throws IOException {
        resizeAndCheck(64 * MIB, 24 * MIB);
    }
}
