package org.blksnap.itest.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.blksnap.api.DiffStorage;
import org.blksnap.api.sys.Errno;
import org.blksnap.itest.support.Shell;
import org.junit.jupiter.api.Test;

import com.sun.nio.file.ExtendedOpenOption;

/**
 * Copy-on-write without waiting in the writer (module/README.md,
 * "Copy-on-write"): one read of the original per run of new chunks, writes
 * released once the original is in memory and never held by the storage
 * (the flags of a held write, REQ_PREFLUSH and REQ_FUA, go with the bio
 * itself, which is submitted as it came),
 * memory bounded by the snapshot's pool, failures that release writes and
 * never fail them, and image reads racing copies that never see new data.
 */
class CopyOnWriteIT {
    private static final int CHUNK = 256 << 10;
    private static final DiffStorage TMP = DiffStorage.directory(Path.of("/tmp"));

    /**
     * A 1 MiB write over four chunks nobody copied yet: the chunks' original
     * content comes in one read of the original, not one (waited for) read
     * per chunk. Counted in the device's own statistics.
     */
    @Test
    void aWriteOverSeveralNewChunksReadsTheOriginalOnce() throws Exception {
        try (Rig rig = new Rig()) {
            Path device = rig.loop(64L << 20);
            Data.writeFill(device, 0, 4 * CHUNK, 0x11);
            Path image = rig.snapshot(TMP, 1L << 20, device).get(0);
            Shell.sh("udevadm", "settle");

            // The one bio may still be split into requests by the queue's limits:
            // its size (max_sectors_kb) and its 256 pages (max_segments; 128 on a loop device).
            long maxKiB = Long.parseLong(Files.readString(queue(device, "max_sectors_kb")).strip());
            long maxSegments = Long.parseLong(Files.readString(queue(device, "max_segments")).strip());
            long pages = 4L * CHUNK / 4096;
            long allowed = Math.max(Math.max(1, (4L * CHUNK / 1024 + maxKiB - 1) / maxKiB),
                    (pages + maxSegments - 1) / maxSegments);
            assertTrue(allowed < 4, "max_sectors_kb " + maxKiB + ", max_segments " + maxSegments
                    + " split 1 MiB into 4 requests anyway");
            long reads;
            // Statistics read while the device is still open for writing:
            // udev probes a device (and reads it) when a writer closes it.
            try (FileChannel c = FileChannel.open(device, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT)) {
                long before = stat(device)[0];
                write(c, 0, 4 * CHUNK, 0x22);
                reads = stat(device)[0] - before;
            }
            assertTrue(reads >= 1 && reads <= allowed, "reads of the original for a 4-chunk first write: " + reads
                    + ", expected 1.." + allowed + " (max_sectors_kb " + maxKiB + ", max_segments " + maxSegments
                    + "); one per chunk would be 4");
            assertEquals("11", Data.fillOf(image, 0, 4 * CHUNK), "the image keeps the original");
            assertEquals("22", Data.fillOf(device, 0, 4 * CHUNK), "the original has the write");
        }
    }

    /**
     * The storage is a device whose writes take 10 s. First writes to more
     * chunks than a store queue ever held (48; the old bound was 16) all
     * complete long before one store could: a write waits for the read of
     * its chunk, never for the storage.
     */
    @Test
    void firstWritesDoNotWaitForTheStorage() throws Exception {
        try (Rig rig = new Rig()) {
            Path device = rig.loop(64L << 20);
            Data.writeFill(device, 0, 48 * CHUNK, 0x11);
            Path slowStorage = slowWrites(rig, "itest-cow-store", rig.loop(64L << 20), STORE_DELAY_MS);
            Path image = rig.snapshot(DiffStorage.blockDevice(slowStorage), Data.sizeOf(slowStorage) / 512, device)
                    .get(0);

            long start = System.nanoTime();
            try (FileChannel c = FileChannel.open(device, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT)) {
                for (int i = 0; i < 48; i++) {
                    write(c, (long) i * CHUNK + 8192, 4096, 0x22);
                }
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(ms < STORE_DELAY_MS, "48 first writes took " + ms + " ms, as long as a store ("
                    + STORE_DELAY_MS + " ms): writes waited for the storage");
            for (int i = 0; i < 48; i++) {
                assertEquals("11", Data.fillOf(image, (long) i * CHUNK, CHUNK), "chunk " + i + " of the image");
            }
            assertEquals(0, Rig.info(device).errorCode());
        }
    }

    private static final int STORE_DELAY_MS = 10_000;

    /**
     * A pool of 1 MiB (four 256 KiB chunks) and a storage whose writes take
     * a second: 32 first writes from 8 threads wait for room, and at no time
     * does the pool hold more pages than its bound (debugfs pool_pages and
     * the stored chunks' spare pages, pool_spare, sampled); the spares go
     * back once the writes stop. All writes complete and the image is whole.
     */
    @Test
    void chunksInMemoryStayWithinThePool() throws Exception {
        try (Rig rig = new Rig()) {
            rig.parameter("chunk_maximum_buffer_mib", "1");
            Path device = rig.loop(64L << 20);
            Data.writeFill(device, 0, 32 * CHUNK, 0x11);
            Path slowStorage = slowWrites(rig, "itest-cow-pool", rig.loop(64L << 20), 1000);
            Path image = rig.snapshot(DiffStorage.blockDevice(slowStorage), Data.sizeOf(slowStorage) / 512, device)
                    .get(0);

            int most = mostWhileWriting(device, 32, "pool_pages", "pool_spare");
            long limit = GuestOs.snapshotsField("pool_limit");
            assertEquals(256, limit, "1 MiB of 4 KiB pages");
            assertTrue(most <= limit, "the pool held " + most + " pages with a bound of " + limit);
            assertTrue(most >= CHUNK / 4096, "the sampler never saw a chunk in memory: " + most);
            long spareGone = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (GuestOs.snapshotsField("pool_spare") > 0 && System.nanoTime() < spareGone) {
                Thread.sleep(100);
            }
            assertEquals(0, GuestOs.snapshotsField("pool_spare"),
                    "the stored chunks' spare pages were not given back 10 s after the last write");
            assertEquals("11", Data.fillOf(image, 0, 32 * CHUNK), "the image is whole");
            assertEquals(0, Rig.info(device).errorCode());
        }
    }

    /**
     * Upstream's bound, chunk_maximum_in_queue, set to 3 at run time: with a
     * storage whose writes take a second, 16 first writes from 8 threads
     * never have more than 3 chunks of the device in memory (debugfs
     * in_memory, sampled), though the 64 MiB pool has room for 256. All
     * writes complete and the image is whole.
     */
    @Test
    void chunksInMemoryStayWithinChunkMaximumInQueue() throws Exception {
        try (Rig rig = new Rig()) {
            rig.parameter("chunk_maximum_in_queue", "3");
            Path device = rig.loop(64L << 20);
            Data.writeFill(device, 0, 16 * CHUNK, 0x11);
            Path slowStorage = slowWrites(rig, "itest-cow-queue", rig.loop(64L << 20), 1000);
            Path image = rig.snapshot(DiffStorage.blockDevice(slowStorage), Data.sizeOf(slowStorage) / 512, device)
                    .get(0);
            assertEquals(3, GuestOs.snapshotsField("chunk_limit"));

            int most = mostWhileWriting(device, 16, "in_memory");
            assertTrue(most <= 3, "the device had " + most + " chunks in memory with a bound of 3");
            assertTrue(most >= 2, "the sampler never saw the bound reached: " + most);
            assertEquals("11", Data.fillOf(image, 0, 16 * CHUNK), "the image is whole");
            assertEquals(0, Rig.info(device).errorCode());
        }
    }

    /**
     * The pool's bound when the guest is short of memory, which is when a
     * module that took pages without a bound would do harm: only 256 MiB are
     * left available and page cache fills them (free memory down to the
     * kernel's watermarks), then 8 threads make 256 first writes into a
     * storage whose writes take 100 ms, with a pool of 16 MiB. The module's
     * pages came from reclaim (/proc/vmstat pgscan grew while the writes
     * ran), the pool never held more than its bound and was filled, no
     * allocation failed (the snapshot is not corrupted), every write reached
     * the original and the image is whole.
     */
    @Test
    void thePoolBoundHoldsWhenTheGuestIsShortOfMemory() throws Exception {
        int chunks = 256;
        try (Rig rig = new Rig()) {
            rig.parameter("chunk_maximum_buffer_mib", "16");
            Path device = rig.loop((long) chunks * CHUNK);
            Data.writeFill(device, 0, chunks * CHUNK, 0x11);
            // Written before the shortage: a tmpfs loop's pages come at its first write.
            Path lower = rig.loop((chunks + 16L) * CHUNK);
            Data.writeFill(lower, 0, (chunks + 16) * CHUNK, 0);
            Path slowStorage = slowWrites(rig, "itest-cow-pressure", lower, 100);
            Path image = rig.snapshot(DiffStorage.blockDevice(slowStorage), Data.sizeOf(slowStorage) / 512, device)
                    .get(0);
            long limit = GuestOs.snapshotsField("pool_limit");
            assertEquals(16 << 8, limit, "16 MiB of 4 KiB pages");

            int most;
            long scanned;
            long free;
            long available;
            long t0 = System.nanoTime();
            long t1;
            long t2;
            try (MemoryPressure _ = MemoryPressure.leaving(256L << 20, GuestOs.VDC)) {
                t1 = System.nanoTime();
                free = MemoryPressure.memFree();
                available = MemoryPressure.memAvailable();
                long before = MemoryPressure.pagesScanned();
                most = mostWhileWriting(device, chunks, "pool_pages", "pool_spare");
                scanned = MemoryPressure.pagesScanned() - before;
                t2 = System.nanoTime();
            }
            long t3 = System.nanoTime();
            String state = "MemFree " + (free >> 20) + " MiB and MemAvailable " + (available >> 20)
                    + " MiB before the writes, " + scanned + " pages scanned by reclaim during them";
            assertTrue(available < 512L << 20, "the guest was not short of memory: " + state);
            assertTrue(scanned > 0, "the kernel never had to reclaim, so nothing was tested: " + state);
            assertTrue(most <= limit, "the pool reached " + most + " pages with a bound of " + limit + "; " + state);
            assertTrue(most >= limit / 2, "the sampler never saw the pool filled: " + most + " pages; " + state);
            assertEquals(0, Rig.info(device).errorCode(), "an allocation failed and corrupted the snapshot; " + state);
            for (int i = 0; i < chunks; i++) {
                assertEquals("22", Data.fillOf(device, (long) i * CHUNK, 4096), "write " + i + " reached the original");
            }
            long t4 = System.nanoTime();
            assertEquals("11", Data.fillOf(image, 0, chunks * CHUNK), "the image is whole");
            System.out.printf("CopyOnWriteIT: short of memory: made in %.1f s, writes %.1f s, given back %.1f s, "
                    + "original checked %.1f s, image read %.1f s; %s%n", (t1 - t0) / 1e9, (t2 - t1) / 1e9,
                    (t3 - t2) / 1e9, (t4 - t3) / 1e9, (System.nanoTime() - t4) / 1e9, state);
        }
    }

    /**
     * 64 first writes from 16 threads into a storage with room for 8 chunks:
     * the snapshot overflows while loads are in flight. Every write
     * succeeds and lands on the original; the snapshot says ENOSPC.
     */
    @Test
    void overflowWithLoadsInFlightReleasesEveryWrite() throws Exception {
        try (Rig rig = new Rig()) {
            Path device = rig.loop(64L << 20);
            Data.writeFill(device, 0, 64 * CHUNK, 0x11);
            rig.snapshot(TMP, 8L * CHUNK / 512, device);

            ExecutorService pool = Executors.newFixedThreadPool(16);
            try {
                writeChunks(pool, 16, device, new AtomicInteger(), 64, CHUNK);
            } finally {
                pool.shutdownNow();
            }
            assertEquals("22", Data.fillOf(device, 0, 64 * CHUNK), "every write reached the original");
            assertEquals(-Errno.ENOSPC, Rig.info(device).errorCode());
        }
    }

    /**
     * Image reads hammering the very blocks that first writes are changing,
     * on 4 KiB chunks (so every write is a first write): the image never
     * shows a byte written after the take. Reads that raced a copy are
     * served again from the saved copy (debugfs image_rereads says how many
     * did in this run).
     */
    @Test
    void imageReadsRacingCopiesNeverSeeNewData() throws Exception {
        try (Rig rig = new Rig()) {
            rig.parameter("chunk_minimum_shift", "12");
            rig.parameter("chunk_maximum_shift", "12");
            // Each block is one race of a first write against three readers. 4,096
            // of them took 380 s of a loaded TCG guest in make test; a quarter runs
            // the same race per block. A soak can ask for more: -Dblksnap.cow.race.blocks=N.
            int blocks = Integer.getInteger("blksnap.cow.race.blocks", 1024);
            Path device = rig.loop((long) blocks * 4096);
            Data.writeFill(device, 0, blocks * 4096, 0x11);
            Path image = rig.snapshot(TMP, 1L << 20, device).get(0);

            AtomicLong current = new AtomicLong(-1);
            AtomicInteger done = new AtomicInteger();
            AtomicLong reads = new AtomicLong();
            List<String> seen = java.util.Collections.synchronizedList(new ArrayList<>());
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> readers = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    readers.add(pool.submit(() -> {
                        ByteBuffer buf = Data.aligned(4096);
                        try (FileChannel c = FileChannel.open(image, StandardOpenOption.READ,
                                ExtendedOpenOption.DIRECT)) {
                            while (done.get() == 0) {
                                long block = current.get();
                                if (block < 0) {
                                    continue;
                                }
                                buf.clear();
                                c.read(buf, block * 4096);
                                reads.incrementAndGet();
                                for (int i = 0; i < 4096; i++) {
                                    if (buf.get(i) != 0x11) {
                                        seen.add("block " + block + " byte " + i + ": "
                                                + String.format("%02x", buf.get(i) & 0xff));
                                        break;
                                    }
                                }
                            }
                        }
                        return null;
                    }));
                }
                Future<?> writer = pool.submit(() -> {
                    java.util.Random r = new java.util.Random(14);
                    List<Long> order = new ArrayList<>();
                    for (long b = 0; b < blocks; b++) {
                        order.add(b);
                    }
                    java.util.Collections.shuffle(order, r);
                    try (FileChannel c = FileChannel.open(device, StandardOpenOption.WRITE,
                            ExtendedOpenOption.DIRECT)) {
                        for (long b : order) {
                            current.set(b);
                            write(c, b * 4096, 4096, 0x22);
                        }
                    } finally {
                        done.set(1);
                    }
                    return null;
                });
                writer.get(600, TimeUnit.SECONDS);
                for (Future<?> f : readers) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                done.set(1);
                pool.shutdownNow();
            }
            System.out.println("CopyOnWriteIT: " + reads.get() + " racing image reads, debugfs: "
                    + Files.readString(GuestOs.DEBUGFS.resolve("snapshots")).strip());
            assertTrue(seen.isEmpty(), "the image showed data written after the take: " + seen);
            assertEquals("11", Data.fillOf(image, 0, blocks * 4096), "the whole image is the original");
            assertEquals("22", Data.fillOf(device, 0, blocks * 4096));
            assertEquals(0, Rig.info(device).errorCode());
        }
    }

    /**
     * 8 threads write 4 KiB at the start of chunks 0 .. {@code count - 1}
     * of {@code device} while a sampler reads the sum of the debugfs
     * {@code fields} every 2 ms; returns the most it saw.
     */
    private static int mostWhileWriting(Path device, int count, String... fields) throws Exception {
        AtomicInteger most = new AtomicInteger();
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(9);
        try {
            Future<?> sampler = pool.submit(() -> {
                while (next.get() < count + 8) {
                    most.accumulateAndGet((int) GuestOs.snapshotsSum(fields), Math::max);
                    Thread.sleep(2);
                }
                return null;
            });
            writeChunks(pool, 8, device, next, count, 4096);
            sampler.get(60, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        return most.get();
    }

    /**
     * {@code threads} writers on {@code pool} write {@code length} bytes of
     * 0x22 at the start of chunks {@code next} .. {@code count - 1}, each
     * taking the next chunk number; returns when all are done.
     */
    private static void writeChunks(ExecutorService pool, int threads, Path device, AtomicInteger next, int count,
            int length) throws Exception {
        List<Future<?>> writers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            writers.add(pool.submit(() -> {
                try (FileChannel c = FileChannel.open(device, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT)) {
                    for (int i; (i = next.getAndIncrement()) < count;) {
                        write(c, (long) i * CHUNK, length, 0x22);
                    }
                }
                return null;
            }));
        }
        for (Future<?> w : writers) {
            w.get(300, TimeUnit.SECONDS);
        }
    }

    private static void write(FileChannel c, long offset, int length, int value) throws IOException {
        ByteBuffer buf = Data.aligned(length);
        while (buf.hasRemaining()) {
            buf.put((byte) value);
        }
        buf.flip();
        while (buf.hasRemaining()) {
            c.write(buf, offset + buf.position());
        }
    }

    /** A dm-delay device over {@code lower} whose writes take {@code ms}; reads pass at once. */
    private static Path slowWrites(Rig rig, String name, Path lower, int ms) throws IOException {
        long sectors = Data.sizeOf(lower) / 512;
        return rig.dm(name, "0 " + sectors + " delay " + lower + " 0 0 " + lower + " 0 " + ms);
    }

    private static Path queue(Path device, String attribute) {
        return Path.of("/sys/block", device.getFileName().toString(), "queue", attribute);
    }

    /** /sys/block/X/stat: reads completed is field 0. */
    private static long[] stat(Path device) throws IOException {
        String[] f = Files.readString(Path.of("/sys/block", device.getFileName().toString(), "stat"))
                .strip().split("\\s+");
        long[] v = new long[f.length];
        for (int i = 0; i < f.length; i++) {
            v[i] = Long.parseLong(f[i]);
        }
        return v;
    }
}
