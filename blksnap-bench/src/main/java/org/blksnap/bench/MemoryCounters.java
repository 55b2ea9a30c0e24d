package org.blksnap.bench;

import java.nio.file.Path;
import java.util.List;

import org.blksnap.api.Session;

/** Scenario 7: the module's memory, from its debugfs counters. */
final class MemoryCounters extends Scenario {
    private static final Target CBT = Target.valueAtMost(32768,
            "the CBT keeps two maps (read and write) of one byte per block; at the default 64 KiB block that "
            + "is 32 KiB per GiB. More means a smaller block (tracking_block_minimum_shift) or a third map. "
            + "Fix: keep the default block, or store the read map only while a CBT map is being read.");
    private static final Target CHUNK = Target.valueAtMost(128,
            "every changed chunk keeps a struct chunk (diff_area's xarray entry; chunk.h) for the life of the "
            + "snapshot. Fix: shrink struct chunk (the store work item and the bvec pointer are needed only "
            + "while the chunk is queued: move them to a short-lived object).");

    MemoryCounters() {
        super(7, "memory counters");
    }

    @Override
    void run(Bench b) throws Exception {
        Path dev = b.disks().main();
        try {
            Bench.attach(dev);
            String memory = Guest.debugfs("memory");
            long perGib = Counters.require(memory, "cbt_bytes_per_gib", "memory");
            String trackers = Guest.debugfs("trackers");
            b.add(Measurement.judged(number(), "CBT memory per GiB tracked", perGib, "B/GiB", null, CBT, b.quick(),
                    "block size " + Counters.require(trackers, "block_size", "trackers") / 1024 + " KiB (default)",
                    List.of()));
            try (Session _ = b.snapshot(List.of(dev))) {
                b.fio(Jobs.firstWrites("s7-change-chunks", dev, b.chunkBytes(), b.profile()));
                String snapshots = Guest.debugfs("snapshots");
                long changed = Counters.require(snapshots, "changed", "snapshots");
                long bytes = Counters.require(snapshots, "chunk_state_bytes", "snapshots");
                if (changed == 0) {
                    throw new IllegalStateException("no changed chunk counted after writing every chunk:\n"
                            + snapshots);
                }
                String note = changed + " changed chunks hold " + bytes + " bytes of chunk state by the module's "
                        + "counter (sizeof(struct chunk) each; their data is in the difference storage). The real "
                        + "cost is higher: kzalloc rounds each to its slab size, and the xarray's nodes (about 9 B "
                        + "per chunk when dense) are not counted";
                b.add(Measurement.judged(number(), "kernel memory per changed chunk", (double) bytes / changed,
                        "B/chunk", null, CHUNK, b.quick(), note, List.of()));
            }
        } finally {
            Bench.detach(dev);
        }
    }
}
