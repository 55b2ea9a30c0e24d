package org.blksnap.itest.verify.integrity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.CbtMap;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.Snapshot;
import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Snapshots;
import org.blksnap.itest.verify.BlockDevice;
import org.blksnap.itest.verify.Evidence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The edges where an off-by-one hides: the first and last sector, a last
 * 4 KiB block, chunk and CBT block that the device only partly covers (its
 * size is a multiple of none of them), writes of one sector on each side of
 * every chunk and CBT border, and unaligned writes to the image. The whole
 * image and the whole original are compared byte for byte with a reference
 * kept in memory.
 */
class BoundariesIT {
    private static final int SECTOR = 512;
    /** 8 MiB and 13.5 KiB: a multiple of no chunk, CBT block or page size. */
    private static final long SIZE = (8L << 20) + 3 * 4096 + 3 * SECTOR;
    private static final Path PARAMETERS = Path.of("/sys/module/blksnap/parameters");
    private static final Path DEBUGFS = Path.of("/sys/kernel/debug/blksnap/snapshots");
    private static final DiffStorage STORAGE = DiffStorage.directory(Path.of("/tmp"));
    /**
     * Sectors: twice the device, enough for every chunk to be saved. The
     * module allocates the storage up front (in tmpfs: memory it zeroes),
     * so a larger limit only costs time.
     */
    private static final long STORAGE_LIMIT = 2 * SIZE / SECTOR;

    /** A write of whole sectors, recorded for messages. */
    private record Place(long offset, int length, String why) {
    }

    @AfterEach
    void noSnapshotLeft() throws Exception {
        Snapshots.destroyAll();
    }

    @Test
    void edgesOfDeviceChunksAndCbtBlocksAreExactOnImageOriginalAndMap() throws Exception {
        try (LoopDevice loop = LoopDevice.create(SIZE); BlkSnap blksnap = BlkSnap.open()) {
            Path dev = loop.device();
            assertEquals(SIZE, Long.parseLong(org.blksnap.itest.support.Shell.sh("blockdev", "--getsize64",
                    dev.toString())));
            int before;
            int cbtBlock;
            try (Filter f = Filter.open(dev)) {
                f.attach();
                before = f.cbtInfo().changesNumber();
                cbtBlock = f.cbtInfo().blockSize();
            }
            long chunk = 1L << Math.max(12, Integer.parseInt(
                    Files.readString(PARAMETERS.resolve("chunk_minimum_shift")).strip()));
            assertTrue(SIZE % chunk != 0 && SIZE % cbtBlock != 0 && SIZE % 4096 != 0, "the sizes do not divide");
            List<Place> places = places(Math.min(chunk, cbtBlock), chunk);

            byte[] atTake = new byte[(int) SIZE];
            write(dev, places, atTake, 1);
            Snapshot snap = Snapshot.create(blksnap, STORAGE, STORAGE_LIMIT);
            try {
                snap.add(dev);
                snap.take();
                Evidence.add(Evidence.Tally.SNAPSHOTS_TAKEN, 1);
                Path image = snap.images().getFirst().image();
                assertEquals(chunk / SECTOR, chunkSectors(dev), "the chunk size the test assumed");
                int taken = cbtMarks(dev, places, before, "before the take");

                byte[] now = atTake.clone();
                write(dev, places, now, 2);
                compare(image, atTake, "image after the original was overwritten");
                compare(dev, now, "original");

                byte[] imageNow = atTake.clone();
                unalignedImageWrites(image, imageNow, chunk);
                compare(image, imageNow, "image after unaligned writes to it");
                compare(dev, now, "original after writes to the image");
                assertEquals(0, snap.images().getFirst().errorCode(), "image state");

                snap.destroy();
                snap = Snapshot.create(blksnap, STORAGE, STORAGE_LIMIT);
                snap.add(dev);
                snap.take();
                Evidence.add(Evidence.Tally.SNAPSHOTS_TAKEN, 1);
                cbtMarks(dev, places, taken, "between the takes");
                compare(snap.images().getFirst().image(), now, "second image");
            } finally {
                snap.destroy();
            }
        }
    }

    /** Sector pairs across every border of {@code step} bytes, and the device's own edges. */
    private static List<Place> places(long step, long chunk) {
        List<Place> out = new ArrayList<>();
        out.add(new Place(0, SECTOR, "first sector"));
        out.add(new Place(SECTOR, 4096 - SECTOR, "rest of the first page"));
        for (long border = step; border < SIZE; border += step) {
            out.add(new Place(border - SECTOR, 2 * SECTOR, "one sector each side of the border at " + border));
        }
        out.add(new Place(chunk - 4096, 8192, "a page each side of the first chunk border"));
        long lastPage = SIZE / 4096 * 4096;
        out.add(new Place(lastPage - 4096, 4096, "last whole page"));
        out.add(new Place(SIZE - 4096, 4096, "last 4 KiB, not page aligned"));
        out.add(new Place(lastPage, (int) (SIZE - lastPage), "partial last page"));
        out.add(new Place(SIZE - SECTOR, SECTOR, "last sector"));
        return out;
    }

    private static void write(Path dev, List<Place> places, byte[] reference, int version) throws IOException {
        SplittableRandom r = new SplittableRandom(version);
        ByteBuffer buf = BlockDevice.buffer(8192);
        try (BlockDevice d = BlockDevice.open(dev)) {
            for (Place p : places) {
                byte[] data = new byte[p.length()];
                r.nextBytes(data);
                buf.clear().put(data).flip();
                d.write(buf, p.offset());
                System.arraycopy(data, 0, reference, (int) p.offset(), p.length());
            }
        }
    }

    /**
     * Writes to the image at byte offsets through the page cache (the kernel
     * reads, merges and writes whole blocks), and one O_DIRECT sector at its
     * very end.
     */
    private static void unalignedImageWrites(Path image, byte[] reference, long chunk) throws IOException {
        long[][] writes = {{1, 10}, {chunk - 100, 300}, {3 * chunk + 333, 5000}, {SIZE - 7, 7}};
        SplittableRandom r = new SplittableRandom(3);
        try (FileChannel c = FileChannel.open(image, StandardOpenOption.WRITE)) {
            for (long[] w : writes) {
                byte[] data = new byte[(int) w[1]];
                r.nextBytes(data);
                ByteBuffer b = ByteBuffer.wrap(data);
                while (b.hasRemaining()) {
                    c.write(b, w[0] + b.position());
                }
                System.arraycopy(data, 0, reference, (int) w[0], data.length);
            }
            c.force(true);
        }
        write(image, List.of(new Place(SIZE - SECTOR, SECTOR, "last sector of the image")), reference, 4);
    }

    /** Reads the whole device with O_DIRECT and compares it with the reference, naming the first difference. */
    private static void compare(Path dev, byte[] expected, String what) throws IOException {
        ByteBuffer buf = BlockDevice.buffer(1 << 20);
        byte[] got = new byte[1 << 20];
        try (BlockDevice d = BlockDevice.open(dev)) {
            for (long off = 0; off < SIZE; off += got.length) {
                int n = (int) Math.min(got.length, SIZE - off);
                buf.clear().limit(n);
                d.read(buf, off);
                buf.flip().get(got, 0, n);
                int at = java.util.Arrays.mismatch(got, 0, n, expected, (int) off, (int) off + n);
                if (at >= 0) {
                    long pos = off + at;
                    int len = (int) Math.min(16, SIZE - pos);
                    Evidence.add(Evidence.Tally.MISMATCHES, 1);
                    fail(String.format("%s %s: block %d (byte %d): expected %s..., found %s...", what, dev,
                            pos / 4096, pos, HexFormat.of().formatHex(expected, (int) pos, (int) pos + len),
                            HexFormat.of().formatHex(got, at, Math.min(n, at + len))));
                }
            }
        }
        Evidence.add(Evidence.Tally.BYTES_COMPARED, SIZE);
        Evidence.add(Evidence.Tally.BLOCKS_VERIFIED, Math.ceilDiv(SIZE, 4096));
    }

    /**
     * Every CBT block a place touches carries a number newer than
     * {@code previous}; the map covers the partial last block.
     *
     * @return the changes number after this take
     */
    private static int cbtMarks(Path dev, List<Place> places, int previous, String when) throws IOException {
        CbtMap map;
        try (Filter f = Filter.open(dev)) {
            map = CbtMap.read(f);
        }
        long bs = map.info().blockSize();
        assertEquals(Math.ceilDiv(SIZE, bs), map.info().blockCount(), "the map covers the partial last block");
        assertNotEquals(previous, map.info().changesNumber());
        for (Place p : places) {
            for (long b = p.offset() / bs; b <= (p.offset() + p.length() - 1) / bs; b++) {
                int stamp = map.stamp((int) b);
                if (stamp <= previous) {
                    Evidence.add(Evidence.Tally.MISMATCHES, 1);
                    fail(String.format("%s: CBT block %d (%s, written %s): expected changes number > %d, found %d",
                            dev, b, p.why(), when, previous, stamp));
                }
            }
        }
        Evidence.add(Evidence.Tally.BLOCKS_VERIFIED, places.size());
        return map.info().changesNumber();
    }

    private static long chunkSectors(Path dev) throws IOException {
        String key;
        try (Filter f = Filter.open(dev)) {
            key = "device " + f.deviceNumber() + " ";
        }
        String line = Files.readString(DEBUGFS).lines().filter(l -> l.contains(key)).findFirst()
                .orElseThrow(() -> new AssertionError("no debugfs line for " + key));
        String[] w = line.strip().split("\\s+");
        for (int i = 0; i + 1 < w.length; i++) {
            if (w[i].equals("chunk_sectors")) {
                return Long.parseLong(w[i + 1]);
            }
        }
        throw new AssertionError("no chunk_sectors in " + line);
    }
}
