package org.blksnap.bench;

import java.nio.file.Path;
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
    private static final Target REWRITE = Target.ratioAtLeast(0.9,
            "a write to a chunk already copied still passes the filter and the copy-on-write check: an xarray "
            + "lookup per chunk (diff_area.c blksnap_diff_area_cow_bio) on top of the CBT cost of scenario 2. Fix: the "
            + "CBT fix of scenario 2, and a per-device bitmap of copied chunks tested before the xarray.");

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
        FioResult bareRandom = b.fio(random);
        try {
            try (Session _ = b.snapshot(List.of(dev))) {
                checkChunk(b);
                FioJob job = strided.on(FIRST_4K, dev);
                b.measured(number(), "4 KiB first writes, snapshot", job, b.fio(job), bareFirst, null,
                        "every write is the first to its " + (b.chunkBytes() >> 10) + " KiB chunk");
            }
            try (Session _ = b.snapshot(List.of(dev))) {
                FioJob seq = Jobs.sequentialWrite(FIRST_1M, dev, p);
                b.measured(number(), "1 MiB sequential first writes, snapshot", seq, b.fio(seq),
                        b.figure(BareDevice.SEQUENTIAL_WRITE), null, "one pass over the region right after the take");
                FioJob rewrite = random.on("s3-snap-rewrite-4k", dev);
                b.measured(number(), "4 KiB random rewrites, snapshot", rewrite, b.fio(rewrite), bareRandom, REWRITE,
                        "every chunk already copied by the pass above; bare run right before the take");
            }
        } finally {
            Bench.detach(dev);
        }
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
