package org.blksnap.itest.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;

import org.blksnap.api.DiffStorage;
import org.blksnap.itest.cbt.BlockIo;
import org.junit.jupiter.api.Test;

/**
 * One bio seen by many filters: a write to a disk that crosses several of
 * its partitions, the disk and every partition in the snapshot. Each of
 * them must copy its own part before the write lands, however many there
 * are.
 */
class ManyTrackersIT {
    private static final DiffStorage TMP = DiffStorage.directory(Path.of("/tmp"));
    private static final int PARTITIONS = 4;
    private static final long FIRST = 2048;
    /** Tiny partitions, so that one 32 KiB write covers all of them. */
    private static final long SECTORS = 16;

    @Test
    void aWholeDiskWriteAcrossFourPartitionsIsCopiedForEachOfThem() throws Exception {
        try (Rig rig = new Rig()) {
            Path disk = rig.loopPartitioned(64L << 20);
            long[][] table = new long[PARTITIONS][];
            for (int i = 0; i < PARTITIONS; i++) {
                table[i] = new long[] {FIRST + i * SECTORS, SECTORS};
            }
            BlockIo.writeMbr(disk, table);
            BlockIo.rereadPartitions(disk);
            int bytes = (int) (PARTITIONS * SECTORS * 512);
            Data.writeFill(disk, FIRST * 512, bytes, 0x55);

            Path[] devices = new Path[PARTITIONS + 1];
            devices[0] = disk;
            for (int i = 1; i <= PARTITIONS; i++) {
                devices[i] = Path.of(disk + "p" + i);
            }
            List<Path> images = rig.snapshot(TMP, 1L << 20, devices);

            Data.writeFill(disk, FIRST * 512, bytes, 0x66);

            assertEquals("66", Data.fillOf(disk, FIRST * 512, bytes), "the write reached the disk");
            assertEquals("55", Data.fillOf(images.get(0), FIRST * 512, bytes), disk + " image");
            for (int i = 1; i <= PARTITIONS; i++) {
                assertEquals("55", Data.fillOf(images.get(i), 0, (int) (SECTORS * 512)),
                        devices[i] + " image keeps the content of the take");
            }
        }
    }
}
