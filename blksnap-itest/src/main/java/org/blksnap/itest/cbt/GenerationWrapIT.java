package org.blksnap.itest.cbt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.IOException;
import java.nio.file.Path;

import org.blksnap.itest.support.LoopDevice;
import org.blksnap.api.CbtInfo;
import org.blksnap.api.Uuid;
import org.junit.jupiter.api.Test;

/**
 * The changes number runs 1..255; the take that would reach 256 restarts it
 * at 1 with an empty write map and a new generation.
 */
class GenerationWrapIT {
    private static final long MIB = 1L << 20;

    @Test
    void wrapsAfter255Takes() throws IOException {
        try (LoopDevice loop = LoopDevice.create(16 * MIB)) {
            Path dev = loop.device();
            Cbt.attach(dev);
            try {
                long bs = Cbt.info(dev).blockSize();
                Uuid first = Cbt.info(dev).generationId();
                BlockIo.writeDirect(dev, 0, 4096, (byte) 1);
                for (int take = 1; take <= 254; take++) {
                    Guest.cbtSwitch(dev);
                }
                CbtInfo before = Cbt.info(dev);
                assertEquals(254, before.changesNumber());
                assertEquals(first, before.generationId(), "generation changed before the wrap");
                assertEquals(1, Cbt.map(dev)[0]);

                BlockIo.writeDirect(dev, bs, 4096, (byte) 2);
                Guest.cbtSwitch(dev);
                CbtInfo wrapped = Cbt.info(dev);
                assertEquals(255, wrapped.changesNumber());
                assertNotEquals(first, wrapped.generationId(), "no new generation at the wrap");
                byte[] atWrap = Cbt.map(dev);
                assertEquals(1, atWrap[0]);
                assertEquals(255, atWrap[1] & 0xff);

                BlockIo.writeDirect(dev, 2 * bs, 4096, (byte) 3);
                Guest.cbtSwitch(dev);
                CbtInfo after = Cbt.info(dev);
                assertEquals(1, after.changesNumber(), "numbers restart at 1");
                assertEquals(wrapped.generationId(), after.generationId());
                byte[] map = Cbt.map(dev);
                assertEquals(0, map[0], "write map was not cleared at the wrap");
                assertEquals(0, map[1], "write map was not cleared at the wrap");
                assertEquals(1, map[2]);
            } finally {
                Cbt.detachQuietly(dev);
            }
        }
    }
}
