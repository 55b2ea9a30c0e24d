package org.blksnap.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.blksnap.api.Session;

/**
 * Scenario 3: writes to a snapshotted device. First writes each hit an
 * uncopied chunk (4 KiB at the start of every chunk, then a sequential
 * pass); rewrites come after that pass has copied every chunk.
 */
final class SnapshotWrites extends Scenario {
    static final String BARE_FIRST = "s3-bare-first-4k";
    static final String BARE_RANDOM_WRITE = "s3-bare-randwrite-4k";
    static final String FIRST_4K = "s3-snap-first-4k";
    static final String FIRST_1M = "s3-snap-first-1m";
    static final String RANDOM_FIRST_QD32 = "s3-snap-randfirst-qd32";
    static final String RANDOM_FIRST_QD1 = "s3-snap-randfirst-qd1";
    private static final Target REWRITE = Target.ratioAtLeast(0.9,
            "a write to a chunk already copied still passes the filter and the copy-on-write check: an xarray "
            + "lookup per chunk (diff_area.c blksnap_diff_area_cow_bio) on top of the CBT cost of scenario 2. Fix: "
            + "a per-device bitmap of copied chunks tested before the xarray.");

    SnapshotWrites() {
        super(3, "snapshot taken: first writes and rewrites");
    }

    @Override
    void run(Bench b) throws Exception {
        Path dev = b.disks().main();
        Profile p = b.profile();
        FioJob strided = Jobs.firstWrites(BARE_FIRST, dev, b.chunkBytes(), p);
        FioResult bareFirst = b.fio(strided);
        b.measured(number(), "4 KiB writes one per chunk, bare", strided, bareFirst, null, null,
                "baseline of the first-write rows: the same strided job on the bare device");
        FioJob random = Jobs.randomWrite(BARE_RANDOM_WRITE, dev, p);
        // The baseline of scenario 4's dm-snapshot rewrites.
        b.fio(random);
        FioJob qd32 = FioJob.randomFirstWrites("s3-bare-randfirst-qd32", dev, b.chunkBytes(), 32, p);
        FioResult bareQd32 = b.fio(qd32);
        FioJob qd1 = FioJob.randomFirstWrites("s3-bare-randfirst-qd1", dev, b.chunkBytes(), 1, p);
        FioResult bareQd1 = b.fio(qd1);
        FioJob mixed = FioJob.mixed("s3-bare-mixed-70-30", dev, 70, p);
        FioResult bareMixed = b.fio(mixed);
        try {
            try (Session _ = b.snapshot(List.of(dev))) {
                checkChunk(b);
                FioJob job = strided.on(FIRST_4K, dev);
                b.measured(number(), "4 KiB first writes, snapshot", job, b.fio(job), bareFirst, null,
                        "every write is the first to its " + (b.chunkBytes() >> 10) + " KiB chunk; module profile: "
                                + Counters.copyOnWriteProfile(Guest.debugfs("snapshots")));
            }
            randomFirst(b, qd32.on(RANDOM_FIRST_QD32, dev), bareQd32);
            randomFirst(b, qd1.on(RANDOM_FIRST_QD1, dev), bareQd1);
            try (Session _ = b.snapshot(List.of(dev))) {
                FioJob job = mixed.on("s3-snap-mixed-70-30", dev);
                b.measured(number(), "4 KiB random 70/30 read/write, snapshot", job, b.fio(job), bareMixed, null,
                        "IOPS of both directions, right after the take (first writes and rewrites mixed)");
            }
            long limit = p.regionBytes() / 8;
            try (Session _ = b.snapshot(List.of(dev), limit)) {
                FioJob job = strided.on("s3-snap-overflow-4k", dev);
                FioResult r = b.fio(job);
                b.add(Measurement.judged(number(), "longest single write, storage overflowing", r.maxLatencyUs() / 1000,
                        "ms", null, null, b.quick(), "first writes to every chunk of the region with room for "
                                + (limit >> 20) + " MiB of it: the storage fills up an eighth of the way through",
                        List.of(r.file())));
            }
            rewrites(b, dev, random);
        } finally {
            Bench.detach(dev);
        }
    }

    /**
     * The 1 MiB first-write pass, then 4 KiB random rewrites of the chunks
     * it copied, against bare random writes right after the same pass on
     * the bare device. The pairs alternate, as in scenario 2, so that what
     * a 512 MiB pass leaves behind in the host (its writeback, seen to slow
     * the next job of dm-snapshot and of blksnap alike) weighs on both
     * sides; the medians are compared.
     */
    private void rewrites(Bench b, Path dev, FioJob random) throws Exception {
        Profile p = b.profile();
        FioJob pass = Jobs.sequentialWrite(FIRST_1M, dev, p);
        List<Double> bare = new ArrayList<>();
        List<Double> snap = new ArrayList<>();
        List<String> files = new ArrayList<>();
        for (int i = 1; i <= p.pairs(); i++) {
            b.fio(pass.on("s3-bare-pass-1m-" + i, dev));
            FioResult r = b.fio(random.on("s3-bare-rewrite-4k-" + i, dev));
            bare.add(Bench.value(r, random));
            files.add(r.file());
            try (Session _ = b.snapshot(List.of(dev))) {
                FioJob first = i == 1 ? pass : pass.on(FIRST_1M + "-" + i, dev);
                FioResult f = b.fio(first);
                if (i == 1) {
                    b.measured(number(), "1 MiB sequential first writes, snapshot", first, f,
                            b.figure(BareDevice.SEQUENTIAL_WRITE), null, "one pass over the region right after the take");
                }
                r = b.fio(random.on("s3-snap-rewrite-4k-" + i, dev));
                snap.add(Bench.value(r, random));
                files.add(r.file());
            }
        }
        double s = TrackerAttached.median(snap);
        double base = TrackerAttached.median(bare);
        b.add(Measurement.judged(number(), "4 KiB random rewrites, snapshot", s, Bench.unit(random), s / base, REWRITE,
                b.quick(), "every chunk copied by a 1 MiB pass right before; median of " + snap.size()
                        + " runs alternating with bare runs after the same pass on the bare device; bare median "
                        + Format.number(base) + " IOPS; spread: bare " + TrackerAttached.range(bare)
                        + ", snapshot " + TrackerAttached.range(snap), files));
    }

    /** One random first-write job under a fresh snapshot; every write must have hit a new chunk. */
    private void randomFirst(Bench b, FioJob job, FioResult bare) throws Exception {
        try (Session _ = b.snapshot(List.of(job.device()))) {
            FioResult r = b.fio(job);
            String snapshots = Guest.debugfs("snapshots");
            b.measured(number(), "4 KiB random first writes QD" + job.iodepth() + ", snapshot", job, r, bare, null,
                    "random chunk starts, " + job.iodepth() + " in flight; " + firstShare(snapshots, r)
                            + "; module profile: " + Counters.copyOnWriteProfile(snapshots));
        }
    }

    /** @return how many of a random first-write job's writes copied a chunk, e.g. "29 of 32 first writes" */
    private static String firstShare(String snapshots, FioResult r) {
        long changed = Counters.require(snapshots, "changed", "snapshots");
        if (changed == 0) {
            throw new IllegalStateException(r.ios() + " writes after the take copied no chunk");
        }
        return Math.min(changed, r.ios()) + " of " + r.ios() + " first writes";
    }

    /** The strided jobs assume the chunk size of the module parameter; check the snapshot's own. */
    private static void checkChunk(Bench b) throws Exception {
        long sectors = Counters.require(Guest.debugfs("snapshots"), "chunk_sectors", "snapshots");
        if (sectors * 512 != b.chunkBytes()) {
            throw new IllegalStateException("the snapshot uses " + sectors * 512 + "-byte chunks, not the "
                    + b.chunkBytes() + " of chunk_minimum_shift: the device is too large for the profile");
        }
    }
}
