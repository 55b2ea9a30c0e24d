package org.blksnap.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.blksnap.api.DiffStorage;
import org.blksnap.api.Session;

/**
 * Scenario 9 (issue 16): first writes with the difference storage in a
 * preallocated file on the snapshotted filesystem itself (a machine with one
 * disk), against the same job with the storage on its own disk, same boot.
 * The job writes 4 KiB at the start of every chunk of a file whose blocks are
 * allocated and written beforehand, so that both runs hit the same sectors
 * and only the storage's place differs.
 */
final class SameDiskStorage extends Scenario {
    static final String SEPARATE = "s9-first-4k-storage-own-disk";
    static final String SAME = "s9-first-4k-storage-same-fs";

    SameDiskStorage() {
        super(9, "difference storage on the snapshotted filesystem vs its own disk");
    }

    @Override
    void run(Bench b) throws Exception {
        Path dev = b.disks().main();
        Profile p = b.profile();
        // A quarter of the region each for the data and the storage: both fit the measured disk with the filesystem.
        long bytes = p.regionBytes() / 4;
        Path mnt = Files.createTempDirectory("bench-samedisk");
        Guest.sh("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", dev.toString());
        Guest.sh("mount", dev.toString(), mnt.toString());
        try {
            Path data = mnt.resolve("data");
            Path store = mnt.resolve("store");
            Guest.sh("dd", "if=/dev/zero", "of=" + data, "bs=1M", "count=" + (bytes >> 20), "oflag=direct",
                    "status=none");
            Guest.sh("fallocate", "-l", Long.toString(bytes), store.toString());
            Guest.sh("sync");
            long writes = bytes / b.chunkBytes();
            FioJob separate = new FioJob(SEPARATE, data, "write:" + (b.chunkBytes() - 4096), 4096, bytes,
                    writes * 4096, 0, 0, p.iodepth());
            FioResult own;
            try (Session _ = b.snapshot(List.of(dev))) {
                own = b.fio(separate);
            }
            b.measured(number(), "4 KiB first writes in a file, storage on its own disk", separate, own, null, null,
                    "baseline: the storage is the whole storage disk");
            FioJob same = separate.on(SAME, data);
            try (Session _ = Session.builder().devicesFrom(List.of(dev)).storage(DiffStorage.file(store))
                    .limit(bytes).open()) {
                b.measured(number(), "4 KiB first writes in a file, storage file on the same filesystem", same,
                        b.fio(same), own, null, "ratio to the row above, same boot: the storage's chunks go to "
                        + "the same disk as the writes, with bios to the pinned file's sectors");
            }
        } finally {
            Guest.sh("umount", mnt.toString());
            Files.deleteIfExists(mnt);
            Bench.detach(dev);
        }
    }
}
