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
            "a first write is held only for the read of its chunk from the original (the module profile in "
            + "the blksnap rows above: held is about loads, and the store comes after the release), where "
            + "dm-snapshot holds it for kcopyd's read and write of the chunk. The submitter's share is cow (the "
            + "chunk's pages, mostly spares of stored chunks, in alloc, and the read's submission, in submits); "
            + "loads runs from the read's submission to the release of the writes and costs about a bare read "
            + "of a chunk (scenario 4's QD1 rows). What is left is the read itself: at QD1 a first write waits "
            + "for two requests in a row (the read, then itself) where dm-snapshot's waits for three and "
            + "kcopyd's hand-offs, and on these emulated disks a request costs about the same whatever its "
            + "size. With 8 or 32 writes in flight the two emulated CPUs, which also run the disks' emulation, "
            + "are the limit: each first write reads and stores a whole chunk, as under dm-snapshot. A chunk "
            + "smaller than 256 KiB (chunk_minimum_shift), or a storage faster than the original, would lift "
            + "both.");

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
        bound(b);
    }

    /**
     * The QD1 ratio that the costs of single requests on these disks give,
     * measured in the same boot: a first write waits for the chunk's read
     * and then for itself (blksnap releases it before the store), one under
     * dm-snapshot for the read, the chunk's write to the COW store and
     * itself.
     */
    private void bound(Bench b) throws IOException {
        Profile p = b.profile();
        FioJob read = new FioJob("s4-bare-read-chunk-qd1", b.disks().main(), "randread", b.chunkBytes(),
                p.regionBytes(), 0, p.runtimeSeconds(), p.rampSeconds(), 1);
        FioJob write = new FioJob("s4-bare-write-chunk-qd1", b.disks().storage(), "randwrite", b.chunkBytes(),
                p.regionBytes(), 0, p.runtimeSeconds(), p.rampSeconds(), 1);
        FioResult chunkRead = b.fio(read);
        FioResult chunkWrite = b.fio(write);
        FioResult small = b.figure("s3-bare-randfirst-qd1");
        double r = 1e6 / chunkRead.iops();
        double w = 1e6 / chunkWrite.iops();
        double s = 1e6 / small.iops();
        b.add(Measurement.judged(number(), "4 KiB random first writes QD1, ratio from request costs alone",
                (r + w + s) / (r + s), UNIT, null, null, b.quick(),
                String.format("(read + chunk write + 4 KiB write) / (read + 4 KiB write): the ratio if both paid "
                        + "only their requests, from this boot's QD1 costs: %,.0f us to read a %d KiB chunk of "
                        + "the original, %,.0f us to write one to the storage disk, %,.0f us for a 4 KiB write; "
                        + "dm-snapshot also pays kcopyd's hand-offs, so the measured ratio may exceed it",
                        r, b.chunkBytes() >> 10, w, s),
                List.of(chunkRead.file(), chunkWrite.file(), small.file())));
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
