package org.blksnap.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Scenario 4: the same writes through a dm-snapshot origin (transient
 * store, same chunk size, COW store on the disk blksnap stores to), and
 * blksnap's first-write figures divided by dm-snapshot's.
 */
final class DmSnapshotWrites extends Scenario {
    private static final String UNIT = "× dm-snapshot";
    private static final Target TWICE = Target.valueAtLeast(2.0,
            "blksnap holds the first write to a chunk in the submitting task while it reads the whole chunk "
            + "synchronously (diff_area.c diff_area_copy, blksnap_chunk_load), so fio's queue depth does not overlap "
            + "the copies, and it stores chunks with buffered writes through the storage device's page cache "
            + "from a work item per chunk, holding at most chunk_maximum_in_queue (16) chunks before the next "
            + "first write waits; dm-snapshot hands the copy to kcopyd, which reads and writes the chunk with "
            + "asynchronous bios and keeps the submitter going. Fix: read the chunk asynchronously and resubmit "
            + "the held bio from the read's completion, and write the storage with bios (as for a block-device "
            + "storage) instead of vfs_iter_write.");

    DmSnapshotWrites() {
        super(4, "dm-snapshot comparison");
    }

    @Override
    void run(Bench b) throws Exception {
        Path dev = b.disks().main();
        Path cow = b.disks().storage();
        long chunkSectors = b.chunkBytes() / 512;
        FioJob strided = Jobs.firstWrites("s4-dm-first-4k", dev, b.chunkBytes(), b.profile());
        FioResult first4k;
        try (DmSnapshot dm = DmSnapshot.create(dev, cow, chunkSectors)) {
            strided = strided.on(strided.name(), dm.origin());
            first4k = b.fio(strided);
            b.measured(number(), "4 KiB first writes, dm-snapshot", strided, first4k,
                    b.figure(SnapshotWrites.BARE_FIRST), null, "transient store, " + chunkSectors
                            + "-sector chunks; " + copied(dm, strided.ioSize() / 4096 * chunkSectors));
        }
        FioResult first1m;
        try (DmSnapshot dm = DmSnapshot.create(dev, cow, chunkSectors)) {
            FioJob seq = Jobs.sequentialWrite("s4-dm-first-1m", dm.origin(), b.profile());
            first1m = b.fio(seq);
            b.measured(number(), "1 MiB sequential first writes, dm-snapshot", seq, first1m,
                    b.figure(BareDevice.SEQUENTIAL_WRITE), null, copied(dm, seq.size() / 512));
            FioJob rewrite = Jobs.randomWrite("s4-dm-rewrite-4k", dm.origin(), b.profile());
            b.measured(number(), "4 KiB random rewrites, dm-snapshot", rewrite, b.fio(rewrite),
                    b.figure(SnapshotWrites.BARE_RANDOM_WRITE), null, "");
        }
        FioResult qd32 = randomFirst(b, "s4-dm-randfirst-qd32", 32, chunkSectors);
        FioResult qd1 = randomFirst(b, "s4-dm-randfirst-qd1", 1, chunkSectors);
        compare(b, "4 KiB first writes, blksnap ÷ dm-snapshot", SnapshotWrites.FIRST_4K, first4k, false);
        compare(b, "4 KiB random first writes QD32, blksnap ÷ dm-snapshot", SnapshotWrites.RANDOM_FIRST_QD32, qd32,
                false);
        compare(b, "4 KiB random first writes QD1, blksnap ÷ dm-snapshot", SnapshotWrites.RANDOM_FIRST_QD1, qd1,
                false);
        compare(b, "1 MiB sequential first writes, blksnap ÷ dm-snapshot", SnapshotWrites.FIRST_1M, first1m, true);
    }

    private FioResult randomFirst(Bench b, String name, int iodepth, long chunkSectors) throws IOException {
        try (DmSnapshot dm = DmSnapshot.create(b.disks().main(), b.disks().storage(), chunkSectors)) {
            FioJob job = FioJob.randomFirstWrites(name, dm.origin(), b.chunkBytes(), iodepth, b.profile());
            FioResult r = b.fio(job);
            b.measured(number(), "4 KiB random first writes QD" + iodepth + ", dm-snapshot", job, r,
                    b.figure("s3-bare-randfirst-qd" + iodepth), null, copied(dm, r.ios() * chunkSectors));
            return r;
        }
    }

    /**
     * Checks that dm-snapshot really copied what was written: a comparison
     * with a snapshot that copies nothing would flatter dm-snapshot.
     *
     * @return the note saying how much was copied
     */
    private static String copied(DmSnapshot dm, long expectedSectors) throws IOException {
        long copied = dm.copiedSectors();
        if (copied < expectedSectors) {
            throw new IllegalStateException("dm-snapshot copied " + copied + " sectors, expected at least "
                    + expectedSectors + ": its origin did not copy on write");
        }
        return "dm-snapshot copied " + (copied >> 11) + " MiB";
    }

    private void compare(Bench b, String name, String ours, FioResult dm, boolean throughput) {
        FioResult blksnap = b.figure(ours);
        double x = throughput ? blksnap.bytesPerSecond() / dm.bytesPerSecond() : blksnap.iops() / dm.iops();
        b.add(Measurement.judged(number(), name, x, UNIT, null, TWICE, b.quick(), "",
                List.of(blksnap.file(), dm.file())));
    }
}
