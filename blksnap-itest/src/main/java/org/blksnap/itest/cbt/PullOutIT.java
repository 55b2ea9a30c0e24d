package org.blksnap.itest.cbt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Shell;
import org.blksnap.api.DeviceNumber;
import org.blksnap.api.FilterNotAttachedException;
import org.junit.jupiter.api.Test;

/**
 * A device that goes away while the filter is attached loses the filter by
 * itself: loop detach, partition rescan, disk removal.  Nothing leaks and
 * the kernel log stays clean.
 */
class PullOutIT {
    private static final long MIB = 1L << 20;

    private static void assertCleanSince(String mark) throws IOException {
        List<String> log = Guest.kernelLogSince(mark);
        assertEquals(List.of(), Guest.kernelFailures(log), "kernel log: " + log);
    }

    @Test
    void loopDetachWhileAttached() throws IOException {
        String mark = "blksnap-itest: loopDetachWhileAttached";
        Guest.kernelLogMark(mark);
        try (LoopDevice loop = LoopDevice.create(32 * MIB)) {
            Path dev = loop.device();
            DeviceNumber number = Guest.deviceNumber(dev);
            Cbt.attach(dev);
            BlockIo.writeDirect(dev, 0, 65536, (byte) 7);
            loop.detach();
            assertFalse(Guest.listed(number), "still listed: " + Guest.trackers());
            assertThrows(FilterNotAttachedException.class, () -> Cbt.info(dev));
            assertTrue(Guest.kernelLogSince(mark).stream().anyMatch(l -> l.contains("went away")),
                    "no detach message in the kernel log");
        }
        assertCleanSince(mark);
    }

    @Test
    void loopWithPartitionsDetachWhileAttached() throws IOException {
        String mark = "blksnap-itest: loopWithPartitionsDetachWhileAttached";
        Guest.kernelLogMark(mark);
        try (LoopDevice loop = LoopDevice.create(48 * MIB, true)) {
            BlockIo.writeMbr(loop.device(), new long[] {2048, 32768});
            BlockIo.rereadPartitions(loop.device());
            DeviceNumber disk = Guest.deviceNumber(loop.device());
            DeviceNumber part = Guest.deviceNumber(loop.partition(1));
            Cbt.attach(loop.device());
            Cbt.attach(loop.partition(1));
            loop.detach();
            assertFalse(Guest.listed(disk), "disk still listed: " + Guest.trackers());
            assertFalse(Guest.listed(part), "partition still listed: " + Guest.trackers());
        }
        assertCleanSince(mark);
    }

    @Test
    void partitionDroppedByRescan() throws IOException {
        String mark = "blksnap-itest: partitionDroppedByRescan";
        Guest.kernelLogMark(mark);
        try (LoopDevice loop = LoopDevice.create(48 * MIB, true)) {
            BlockIo.writeMbr(loop.device(), new long[] {2048, 32768});
            BlockIo.rereadPartitions(loop.device());
            Path p1 = loop.partition(1);
            Cbt.attach(p1);
            Cbt.attach(loop.device());
            try {
                BlockIo.writeMbr(loop.device(), new long[] {4096, 16384});
                BlockIo.rereadPartitions(loop.device());
                assertEquals(16384L * 512, BlockIo.sizeBytes(p1), "rescan did not happen");
                assertThrows(FilterNotAttachedException.class, () -> Cbt.info(p1),
                        "the new partition must not inherit the old one's filter");
                assertEquals(48 * MIB, Cbt.info(loop.device()).capacityBytes(), "the disk keeps its filter");
            } finally {
                Cbt.detachQuietly(p1);
                Cbt.detachQuietly(loop.device());
            }
        }
        assertCleanSince(mark);
    }

    /** brd removes its disks with del_gendisk when the driver is unloaded. */
    @Test
    void diskRemovedWhileAttached() throws IOException {
        String mark = "blksnap-itest: diskRemovedWhileAttached";
        Guest.kernelLogMark(mark);
        Path ram = Path.of("/dev/ram0");
        Shell.sh("modprobe", "brd", "rd_nr=1", "rd_size=16384");
        try {
            assertTrue(Files.exists(ram), "brd created no /dev/ram0");
            DeviceNumber number = Guest.deviceNumber(ram);
            Cbt.attach(ram);
            BlockIo.writeDirect(ram, 8192, 4096, (byte) 1);
            Shell.sh("rmmod", "brd");
            assertFalse(Guest.listed(number), "still listed: " + Guest.trackers());
        } finally {
            Shell.run("rmmod", "brd");
        }
        assertCleanSince(mark);
    }
    /** zram removes its disks with del_gendisk when the driver is unloaded. */
    @Test
    void zramUnloadedWhileAttached() throws IOException {
        String mark = "blksnap-itest: zramUnloadedWhileAttached";
        Guest.kernelLogMark(mark);
        Path zram = Path.of("/dev/zram0");
        Shell.sh("modprobe", "zram", "num_devices=1");
        try {
            Files.writeString(Path.of("/sys/block/zram0/disksize"), "32M");
            DeviceNumber number = Guest.deviceNumber(zram);
            Cbt.attach(zram);
            BlockIo.writeDirect(zram, 0, 65536, (byte) 1);
            Guest.cbtSwitch(zram);
            assertEquals(1, Cbt.map(zram)[0]);
            Shell.sh("rmmod", "zram");
            assertFalse(Guest.listed(number), "still listed: " + Guest.trackers());
        } finally {
            Shell.run("rmmod", "zram");
        }
        assertCleanSince(mark);
    }
    /** A zram reset drops the content: the filter must not survive it. */
    @Test
    void zramResetWhileAttached() throws IOException {
        String mark = "blksnap-itest: zramResetWhileAttached";
        Guest.kernelLogMark(mark);
        Path zram = Path.of("/dev/zram0");
        Shell.sh("modprobe", "zram", "num_devices=1");
        try {
            Files.writeString(Path.of("/sys/block/zram0/disksize"), "32M");
            DeviceNumber number = Guest.deviceNumber(zram);
            Cbt.attach(zram);
            Files.writeString(Path.of("/sys/block/zram0/reset"), "1");
            assertFalse(Guest.listed(number), "still listed after reset: " + Guest.trackers());
            Files.writeString(Path.of("/sys/block/zram0/disksize"), "32M");
            assertThrows(FilterNotAttachedException.class, () -> Cbt.info(zram),
                    "the same size again must not revive the old map");
        } finally {
            Shell.run("rmmod", "zram");
        }
        assertCleanSince(mark);
    }
    @Test
    void partitionDeletedWithBlkpg() throws IOException {
        String mark = "blksnap-itest: partitionDeletedWithBlkpg";
        Guest.kernelLogMark(mark);
        try (LoopDevice loop = LoopDevice.create(48 * MIB, true)) {
            BlockIo.writeMbr(loop.device(), new long[] {2048, 32768});
            BlockIo.rereadPartitions(loop.device());
            DeviceNumber part = Guest.deviceNumber(loop.partition(1));
            Cbt.attach(loop.partition(1));
            Cbt.attach(loop.device());
            try {
                BlockIo.deletePartition(loop.device(), 1);
                assertFalse(Guest.listed(part), "deleted partition still listed: " + Guest.trackers());
                assertEquals(48 * MIB, Cbt.info(loop.device()).capacityBytes(), "the disk keeps its filter");
            } finally {
                Cbt.detachQuietly(loop.partition(1));
                Cbt.detachQuietly(loop.device());
            }
        }
        assertCleanSince(mark);
    }
}
