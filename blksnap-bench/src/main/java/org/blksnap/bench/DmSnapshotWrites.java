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
            "a first write no longer waits in the submitter: it starts one read for its new chunks and is "
            + "released by that read's completion (diff_area.c blksnap_diff_area_cow_bio, diff_area_load_finish), "
            + "where dm-snapshot waits for kcopyd's read and write. What is left on blksnap's side is the store: "
            + "a work item per chunk writes it through the storage device's page cache and waits for its "
            + "writeback (diff_area_store_work, blksnap_diff_storage_rw), and the chunk pool "
            + "(chunk_maximum_buffer_mib) makes writers wait once that falls behind. Fix: stores as bios "
            + "straight from the chunk's pages (blksnap_diff_storage_submit of issue 16), batched.");

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
                    b.figure("s3-bare-randfirst-qd" + iodepth), null,
                    // Random offsets without fio's map hit some chunks twice (smoke run: 14,848 sectors
                    // copied for 16,384 written), so only half is certain to be a first write.
                    copied(dm, r.ios() * chunkSectors / 2));
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
