package org.blksnap.bench;

import java.nio.file.Path;
import java.util.List;

/**
 * Scenario 4: the same writes through a dm-snapshot origin (transient
 * store, same chunk size, COW store on the disk blksnap stores to), and
 * blksnap's first-write figures divided by dm-snapshot's.
 */
final class DmSnapshotWrites implements Scenario {
    private static final String UNIT = "× dm-snapshot";
    private static final Target TWICE = Target.valueAtLeast(2.0,
            "blksnap holds the first write to a chunk in the submitting task while it reads the chunk "
            + "synchronously (diff_area.c diff_area_copy, chunk_load), so fio's queue depth does not overlap "
            + "the copies; dm-snapshot queues the copy (kcopyd) and keeps the submitter going. Storing is "
            + "asynchronous in blksnap but throttled at chunk_maximum_in_queue chunks. Fix: read the chunk "
            + "asynchronously and resubmit the held bio from the read's completion, so several first writes "
            + "copy at once.");

    @Override
    public int number() {
        return 4;
    }

    @Override
    public String title() {
        return "dm-snapshot comparison";
    }

    @Override
    public void run(Bench b) throws Exception {
        Path dev = b.disks().main();
        Path cow = b.disks().storage();
        long chunkSectors = b.chunkBytes() / 512;
        FioJob strided = Jobs.firstWrites("s4-dm-first-4k", dev, b.chunkBytes(), b.profile());
        FioResult first4k;
        try (DmSnapshot dm = DmSnapshot.create(dev, cow, chunkSectors)) {
            strided = strided.on(strided.name(), dm.origin());
            first4k = b.fio(strided);
            b.measured(4, "4 KiB first writes, dm-snapshot", strided, first4k,
                    b.figure(SnapshotWrites.BARE_FIRST), null, "transient store, " + chunkSectors + "-sector chunks");
        }
        FioResult first1m;
        try (DmSnapshot dm = DmSnapshot.create(dev, cow, chunkSectors)) {
            FioJob seq = Jobs.sequentialWrite("s4-dm-first-1m", dm.origin(), b.profile());
            first1m = b.fio(seq);
            b.measured(4, "1 MiB sequential first writes, dm-snapshot", seq, first1m,
                    b.figure(BareDevice.SEQUENTIAL_WRITE), null, "");
            FioJob rewrite = Jobs.randomWrite("s4-dm-rewrite-4k", dm.origin(), b.profile());
            b.measured(4, "4 KiB random rewrites, dm-snapshot", rewrite, b.fio(rewrite),
                    b.figure(SnapshotWrites.BARE_RANDOM_WRITE), null, "");
        }
        compare(b, "4 KiB first writes, blksnap ÷ dm-snapshot", SnapshotWrites.FIRST_4K, first4k, false);
        compare(b, "1 MiB sequential first writes, blksnap ÷ dm-snapshot", SnapshotWrites.FIRST_1M, first1m, true);
    }

    private static void compare(Bench b, String name, String ours, FioResult dm, boolean throughput) {
        FioResult blksnap = b.figure(ours);
        double x = throughput ? blksnap.bytesPerSecond() / dm.bytesPerSecond() : blksnap.iops() / dm.iops();
        b.add(Measurement.judged(4, name, x, UNIT, null, TWICE, b.quick(), "", List.of(blksnap.file(), dm.file())));
    }
}
