package org.blksnap.itest.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

import org.blksnap.itest.support.Shell;
import org.blksnap.api.DiffStorage;
import org.junit.jupiter.api.Test;

/** Every kind of difference storage holds the original data of changed chunks. */
class DiffStorageIT {
    private static final int DEVICE_MIB = 128;
    private static final long STEP_SECTORS = 8192;

    /**
     * Takes a snapshot of a fresh loop device with the given storage,
     * overwrites 48 MiB of it and checks the image against a copy made at
     * the take.
     */
    private static void roundTrip(Rig rig, DiffStorage storage, long limitSectors) throws Exception {
        Path device = rig.loop((long) DEVICE_MIB << 20);
        Data.writeDirect(device, Data.randomWrites((long) DEVICE_MIB << 20, 100, 21), 22);
        Path copy = Files.createTempFile("snap-copy", ".img");
        try {
            Data.copyDevice(device, copy, DEVICE_MIB);
            Path image = rig.snapshot(storage, limitSectors, device).get(0);
            List<Data.Write> writes = Stream.iterate(0L, o -> o + (2L << 20)).limit(48)
                    .map(o -> new Data.Write(o, 1 << 20)).toList();
            Data.writeDirect(device, writes, 23);
            assertEquals(Data.md5Device(copy), Data.md5Device(image));
            assertEquals(0, Rig.info(device).errorCode());
        } finally {
            Files.deleteIfExists(copy);
        }
    }

    @Test
    void regularFileOnExt4GrowsInSeveralSteps() throws Exception {
        try (Rig rig = new Rig()) {
            rig.parameter("diff_storage_minimum", Long.toString(STEP_SECTORS));
            GuestOs.mkfs("ext4", GuestOs.VDC);
            Path fs = rig.mount(GuestOs.VDC, "ext4");
            Path file = fs.resolve("diff.store");
            roundTrip(rig, DiffStorage.file(file), 1L << 21);
            long steps = Files.size(file) / (STEP_SECTORS << 9);
            assertEquals(0, Files.size(file) % (STEP_SECTORS << 9), "grown in whole steps");
            assertTrue(steps >= 12, "48 MiB of chunks need at least 12 steps of 4 MiB, saw " + steps);
        }
    }

    @Test
    void regularFileOnTmpfs() throws Exception {
        Path dir = Files.createTempDirectory("snap-tmpfs");
        Shell.sh("mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", dir.toString());
        try (Rig rig = new Rig()) {
            rig.parameter("diff_storage_minimum", Long.toString(STEP_SECTORS));
            roundTrip(rig, DiffStorage.file(dir.resolve("store")), 1L << 19);
        } finally {
            Shell.run("umount", dir.toString());
            Files.deleteIfExists(dir);
        }
    }

    /** On a tmpfs of its own, so that the space used is the storage's alone. */
    @Test
    void directoryGetsAnUnnamedFileThatVanishes() throws Exception {
        Path dir = Files.createTempDirectory("snap-dir");
        Shell.sh("mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", dir.toString());
        try {
            try (Rig rig = new Rig()) {
                rig.parameter("diff_storage_minimum", Long.toString(STEP_SECTORS));
                roundTrip(rig, DiffStorage.directory(dir), 1L << 19);
                try (Stream<Path> s = Files.list(dir)) {
                    assertEquals(0, s.count(), "the storage file has no name");
                }
                assertTrue(usedKib(dir) >= 48 * 1024, "the unnamed file holds the chunks: " + usedKib(dir));
            }
            assertTrue(usedKib(dir) < 1024, "the space is returned with the snapshot: " + usedKib(dir));
        } finally {
            Shell.run("umount", dir.toString());
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void blockDeviceIsUsedExclusively() throws Exception {
        try (Rig rig = new Rig()) {
            roundTrip(rig, DiffStorage.blockDevice(GuestOs.VDC), Data.sizeOf(GuestOs.VDC) >> 9);
            Shell.Result mkfs = Shell.run("mkfs.ext4", "-q", "-F", GuestOs.VDC.toString());
            assertFalse(mkfs.ok(), "the storage device must be held exclusively: " + mkfs.output());
        }
    }

    /**
     * A block device storage whose page cache holds its old content, as
     * after someone (blkid, a monitoring agent) read it through a descriptor
     * still open; the read-ahead of any buffered read of the storage leaves
     * the same behind. The module stores chunks with bios, which pass that
     * cache by, so the image must read them back with bios too: it shows
     * the original's data at the take, not the cached pages.
     */
    @Test
    void blockDeviceStorageIsNeverReadThroughItsPageCache() throws Exception {
        int chunks = 16;
        int chunk = 256 << 10;
        try (Rig rig = new Rig()) {
            Path device = rig.loop(64L << 20);
            Data.writeFill(device, 0, chunks * chunk, 0x11);
            Path storage = rig.loop(64L << 20);
            Data.writeFill(storage, 0, 2 * chunks * chunk, 0x5a);
            try (FileChannel cached = FileChannel.open(storage, StandardOpenOption.READ)) {
                ByteBuffer buf = ByteBuffer.allocate(2 * chunks * chunk);
                while (buf.hasRemaining() && cached.read(buf) > 0) {
                    // the whole range, buffered: now in the device's page cache
                }
                Path image = rig.snapshot(DiffStorage.blockDevice(storage), Data.sizeOf(storage) >> 9, device)
                        .get(0);
                Data.writeFill(device, 0, chunks * chunk, 0x22);
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (GuestOs.snapshotsField("in_memory") > 0) {
                    assertTrue(System.nanoTime() < deadline, "the chunks were not stored within 60 s");
                    Thread.sleep(20);
                }
                assertEquals(chunks, GuestOs.snapshotsField("changed"));
                assertEquals("11", Data.fillOf(image, 0, chunks * chunk),
                        "the image shows what the device held at the take, not the storage's cached pages (5a)");
                assertEquals(0, Rig.info(device).errorCode());
            }
        }
    }

    private static long usedKib(Path dir) throws Exception {
        String[] lines = Shell.sh("df", "-k", "--output=used", dir.toString()).split("\n");
        return Long.parseLong(lines[lines.length - 1].strip());
    }
}
