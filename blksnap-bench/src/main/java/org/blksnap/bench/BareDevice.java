package org.blksnap.bench;

import java.nio.file.Path;

/** Scenario 1: the bare device, the baseline of every ratio. */
final class BareDevice extends Scenario {
    static final String RANDOM_WRITE = "s1-bare-randwrite-4k";
    static final String SEQUENTIAL_WRITE = "s1-bare-write-1m";

    BareDevice() {
        super(1, "bare device");
    }

    @Override
    void run(Bench b) throws Exception {
        Path dev = b.disks().main();
        Profile p = b.profile();
        for (FioJob job : new FioJob[] {
            Jobs.randomWrite(RANDOM_WRITE, dev, p),
            Jobs.randomRead("s1-bare-randread-4k", dev, p),
            Jobs.sequentialWrite(SEQUENTIAL_WRITE, dev, p),
            Jobs.sequentialRead("s1-bare-read-1m", dev, p)}) {
            b.measured(number(), describe(job) + ", bare", job, b.fio(job), null, null, "");
        }
    }

    /** @return e.g. "4 KiB random write" */
    static String describe(FioJob job) {
        String size = job.blockSize() >= 1 << 20 ? (job.blockSize() >> 20) + " MiB" : (job.blockSize() >> 10)
                + " KiB";
        String kind = switch (job.rw()) {
            case "randwrite" -> "random write";
            case "randread" -> "random read";
            case "write" -> "sequential write";
            case "read" -> "sequential read";
            default -> job.rw();
        };
        return size + " " + kind;
    }
}
