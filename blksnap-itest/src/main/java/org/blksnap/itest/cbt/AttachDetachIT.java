package org.blksnap.itest.cbt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;

import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Shell;
import org.blksnap.api.CbtInfo;
import org.blksnap.api.DeviceNumber;
import org.blksnap.api.FilterAlreadyAttachedException;
import org.blksnap.api.FilterNotAttachedException;
import org.junit.jupiter.api.Test;

/** The filter attaches to and detaches from loop, virtio and partition devices. */
class AttachDetachIT {
    private static final long MIB = 1L << 20;

    /** Attach, check the fresh tracker and the listing, detach, check it is gone. */
    private static void attachAndDetach(Path device) throws IOException {
        DeviceNumber dev = Guest.deviceNumber(device);
        long capacity = BlockIo.sizeBytes(device);
        Cbt.attach(device);
        try {
            assertTrue(Guest.listed(dev), "debugfs does not list " + device + ": " + Guest.trackers());
            CbtInfo info = Cbt.info(device);
            long blockSize = Cbt.expectedBlockSize(capacity);
            assertEquals(capacity, info.capacityBytes());
            assertEquals(blockSize, info.blockSize());
            assertEquals(Math.ceilDiv(capacity, blockSize), info.blockCount());
            assertEquals(0, info.changesNumber(), "no take yet");
            assertArrayEquals(new byte[info.blockCount()], Cbt.map(device), "fresh map must be empty");
        } finally {
            Cbt.detachQuietly(device);
        }
        assertFalse(Guest.listed(dev), device + " still listed after detach");
        assertThrows(FilterNotAttachedException.class, () -> Cbt.info(device));
    }

    @Test
    void loopDevice() throws IOException {
        try (LoopDevice loop = LoopDevice.create(96 * MIB)) {
            attachAndDetach(loop.device());
        }
    }

    @Test
    void virtioDisk() throws IOException {
        attachAndDetach(Guest.VDA);
    }

    @Test
    void partitionIndependentOfItsDisk() throws IOException {
        try (LoopDevice loop = LoopDevice.create(64 * MIB, true)) {
            BlockIo.writeMbr(loop.device(), new long[] {2048, 40960}, new long[] {43008, 40960});
            BlockIo.rereadPartitions(loop.device());
            Path p1 = loop.partition(1);
            Path p2 = loop.partition(2);
            try {
                attachAndDetach(p1);
                Cbt.attach(p2);
                assertThrows(FilterNotAttachedException.class, () -> Cbt.info(loop.device()),
                        "a filter on a partition must not appear on its disk");
                assertThrows(FilterNotAttachedException.class, () -> Cbt.info(p1));
                Cbt.attach(loop.device());
                assertEquals(40960L * 512, Cbt.info(p2).capacityBytes());
                assertEquals(64 * MIB, Cbt.info(loop.device()).capacityBytes());
                Cbt.detach(loop.device());
                assertEquals(40960L * 512, Cbt.info(p2).capacityBytes(), "detaching the disk kept p2's filter");
            } finally {
                Cbt.detachQuietly(p2);
                Cbt.detachQuietly(loop.device());
            }
        }
    }

    @Test
    void attachTwiceIsRefused() throws IOException {
        try (LoopDevice loop = LoopDevice.create(16 * MIB)) {
            Cbt.attach(loop.device());
            try {
                var e = assertThrows(FilterAlreadyAttachedException.class, () -> Cbt.attach(loop.device()));
                assertEquals(org.blksnap.api.sys.Errno.EALREADY, e.errno());
            } finally {
                Cbt.detachQuietly(loop.device());
            }
        }
    }

    @Test
    void detachWhenNotAttachedIsRefused() throws IOException {
        try (LoopDevice loop = LoopDevice.create(16 * MIB)) {
            var e = assertThrows(FilterNotAttachedException.class, () -> Cbt.detach(loop.device()));
            assertEquals(org.blksnap.api.sys.Errno.ENOENT, e.errno());
        }
    }

    @Test
    void otherBlockIoctlsPassThrough() throws IOException {
        try (LoopDevice loop = LoopDevice.create(24 * MIB)) {
            Cbt.attach(loop.device());
            try {
                assertEquals(24 * MIB, BlockIo.sizeBytes(loop.device()));
                assertEquals("512", Shell.sh("blockdev", "--getss", loop.device().toString()));
            } finally {
                Cbt.detachQuietly(loop.device());
            }
        }
    }

    /** A device too big for the minimum block gets the next block size up. */
    @Test
    void blockSizeGrowsWithCapacity() throws IOException {
        long capacity = 200L << 30;
        try (LoopDevice loop = LoopDevice.create(capacity)) {
            Cbt.attach(loop.device());
            try {
                CbtInfo info = Cbt.info(loop.device());
                long minimum = 1L << Cbt.param("tracking_block_minimum_shift");
                assertTrue(info.blockSize() > minimum, "block size " + info.blockSize());
                assertEquals(Cbt.expectedBlockSize(capacity), info.blockSize());
                assertTrue(info.blockCount() <= Cbt.param("tracking_block_maximum_count"));
                assertEquals(Math.ceilDiv(capacity, info.blockSize()), info.blockCount());
            } finally {
                Cbt.detachQuietly(loop.device());
            }
        }
    }
}
