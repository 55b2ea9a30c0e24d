package org.blksnap.itest.cbt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Shell;
import org.blksnap.api.CbtInfo;
import org.junit.jupiter.api.Test;

/**
 * After random O_DIRECT writes, discards and write-zeroes the CBT map equals
 * a model of the touched blocks, block for block: nothing missed, nothing
 * extra.  Takes are driven through the module's debugfs switch.
 */
class CbtMapIT {
    private static final long MIB = 1L << 20;

    private static void twoRounds(Path device, boolean discards) throws IOException {
        long capacity = BlockIo.sizeBytes(device);
        Cbt.attach(device);
        try {
            CbtInfo info = Cbt.info(device);
            WriteModel model = new WriteModel(device, capacity, info.blockSize(), System.nanoTime(), discards);

            model.run(120, 1);
            Shell.sh("sync");
            Guest.cbtSwitch(device);
            byte[] map = Cbt.map(device);
            assertEquals(1, Cbt.info(device).changesNumber());
            assertArrayEquals(model.expected(), map, () -> "round 1:" + Cbt.diff(model.expected(), map)
                    + " ops: " + model.log());

            model.run(60, 2);
            Guest.cbtSwitch(device);
            byte[] map2 = Cbt.map(device);
            assertEquals(2, Cbt.info(device).changesNumber());
            assertArrayEquals(model.expected(), map2, () -> "round 2:" + Cbt.diff(model.expected(), map2)
                    + " ops: " + model.log());
            assertEquals(info.generationId(), Cbt.info(device).generationId(), "generation must not change");
        } finally {
            Cbt.detachQuietly(device);
        }
    }

    @Test
    void loopDeviceMatchesModel() throws IOException {
        try (LoopDevice loop = LoopDevice.create(256 * MIB)) {
            twoRounds(loop.device(), true);
        }
    }

    @Test
    void virtioDiskMatchesModel() throws IOException {
        Path limit = Path.of("/sys/block/vda/queue/discard_max_bytes");
        boolean discards = Long.parseLong(Files.readString(limit).strip()) > 0;
        twoRounds(Guest.VDA, discards);
    }

    /** Before any take the map is empty: CBTMAP shows the state at the last take. */
    @Test
    void writesShowOnlyAfterTake() throws IOException {
        try (LoopDevice loop = LoopDevice.create(32 * MIB)) {
            Cbt.attach(loop.device());
            try {
                BlockIo.writeDirect(loop.device(), 0, 4096, (byte) 1);
                int blocks = Cbt.info(loop.device()).blockCount();
                assertArrayEquals(new byte[blocks], Cbt.map(loop.device()));
                Guest.cbtSwitch(loop.device());
                assertEquals(1, Cbt.map(loop.device())[0]);
            } finally {
                Cbt.detachQuietly(loop.device());
            }
        }
    }

    /**
     * Partitions are tracked on their own, in their own coordinates; the
     * disk's filter sees writes made through a partition, and a partition's
     * filter sees writes made through the disk inside its extent.
     */
    @Test
    void partitionAndDiskBothSeeTheirWrites() throws IOException {
        long p1Start = 2048;
        long p1Sectors = 65536;
        long p2Start = p1Start + p1Sectors;
        try (LoopDevice loop = LoopDevice.create(96 * MIB, true)) {
            BlockIo.writeMbr(loop.device(), new long[] {p1Start, p1Sectors}, new long[] {p2Start, 65536});
            BlockIo.rereadPartitions(loop.device());
            Path disk = loop.device();
            Path p1 = loop.partition(1);
            Path p2 = loop.partition(2);
            Cbt.attach(disk);
            Cbt.attach(p1);
            try {
                long bs = Cbt.info(p1).blockSize();
                WriteModel diskModel = new WriteModel(disk, BlockIo.sizeBytes(disk), bs, 0, false);
                WriteModel p1Model = new WriteModel(p1, BlockIo.sizeBytes(p1), bs, 0, false);

                BlockIo.writeDirect(p1, 5 * bs, 8192, (byte) 1);
                p1Model.touch(5 * bs, 8192, 1);
                diskModel.touch(p1Start * 512 + 5 * bs, 8192, 1);

                BlockIo.writeDirect(p2, 3 * bs, 4096, (byte) 2);
                diskModel.touch(p2Start * 512 + 3 * bs, 4096, 1);

                long inP1 = p1Start * 512 + 20 * bs + 4096;
                BlockIo.writeDirect(disk, inP1, 4096, (byte) 3);
                diskModel.touch(inP1, 4096, 1);
                p1Model.touch(inP1 - p1Start * 512, 4096, 1);

                Guest.cbtSwitch(disk);
                Guest.cbtSwitch(p1);
                byte[] diskMap = Cbt.map(disk);
                byte[] p1Map = Cbt.map(p1);
                assertArrayEquals(diskModel.expected(), diskMap, () -> "disk:" + Cbt.diff(diskModel.expected(), diskMap));
                assertArrayEquals(p1Model.expected(), p1Map, () -> "p1:" + Cbt.diff(p1Model.expected(), p1Map));
            } finally {
                Cbt.detachQuietly(p1);
                Cbt.detachQuietly(disk);
            }
        }
    }
}
