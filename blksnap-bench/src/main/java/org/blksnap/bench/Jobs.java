package org.blksnap.bench;

import java.nio.file.Path;

/** The workloads of the issue, the same for every device they run on. */
final class Jobs {
    private static final long SMALL = 4096;
    private static final long LARGE = 1 << 20;

    private Jobs() {
    }

    static FioJob randomWrite(String name, Path device, Profile p) {
        return FioJob.timed(name, device, "randwrite", SMALL, p);
    }

    static FioJob randomRead(String name, Path device, Profile p) {
        return FioJob.timed(name, device, "randread", SMALL, p);
    }

    static FioJob sequentialWrite(String name, Path device, Profile p) {
        return FioJob.onePass(name, device, "write", LARGE, p);
    }

    static FioJob sequentialRead(String name, Path device, Profile p) {
        return FioJob.onePass(name, device, "read", LARGE, p);
    }

    /** 4 KiB writes, one at the start of every chunk: each is the first write to its chunk. */
    static FioJob firstWrites(String name, Path device, long chunkBytes, Profile p) {
        return FioJob.strided(name, device, SMALL, chunkBytes, p);
    }
}
