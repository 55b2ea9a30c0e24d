package org.blksnap.itest.verify.integrity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.Image;
import org.blksnap.api.Snapshot;
import org.blksnap.itest.support.Shell;
import org.blksnap.itest.support.Snapshots;
import org.blksnap.itest.verify.Evidence;
import org.blksnap.itest.verify.Knobs;
import org.blksnap.itest.verify.Mismatch;
import org.blksnap.itest.verify.Take;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ext4 and xfs on a virtio disk; files are created, replaced and deleted
 * (each change durable and atomic) before, during and after each take. The
 * image, mounted read-only and then read-write (journal replay), holds each
 * file exactly as the model allows at the take (md5 of each), no other
 * file, and passes fsck afterwards.
 */
class FilesystemIntegrityIT {
    private static final Knobs KNOBS = Knobs.current();
    private static final Path DISK = Path.of("/dev/vdb");
    private static final Duration FSCK_TIMEOUT = Duration.ofMinutes(5);
    /**
     * 512 MiB in sectors: what the file writer changes during one round,
     * checks included, with a wide margin. The module allocates it up front.
     */
    private static final long STORAGE_LIMIT = 1L << 20;

    private final List<Path> mounted = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (int i = mounted.size() - 1; i >= 0; i--) {
            Shell.run("umount", mounted.get(i).toString());
            Files.deleteIfExists(mounted.get(i));
        }
        Snapshots.destroyAll();
        try (Filter f = Filter.open(DISK)) {
            if (f.isAttached()) {
                f.detach();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ext4", "xfs"})
    void imagesHoldExactlyThePreTakeFilesAndPassFsck(String fs) throws Exception {
        Shell.sh(fs.equals("xfs") ? "mkfs.xfs" : "mkfs.ext4", fs.equals("xfs") ? "-qf" : "-qF", DISK.toString());
        Path live = mount(DISK, fs, "rw");
        Knobs.Deadline deadline = KNOBS.deadline(0.125);
        List<Mismatch> mismatches = new ArrayList<>();
        int rounds = 0;
        try (BlkSnap blksnap = BlkSnap.open(); FileWorkload files = new FileWorkload(live, fs.hashCode())) {
            files.changes(30);
            files.start();
            for (; deadline.more(rounds) && mismatches.isEmpty(); rounds++) {
                Thread.sleep(KNOBS.writeTime());
                Snapshot snap = Snapshot.create(blksnap, DiffStorage.directory(Path.of("/tmp")),
                        STORAGE_LIMIT);
                try {
                    snap.add(DISK);
                    long start = System.nanoTime();
                    snap.take();
                    Take take = new Take(start, System.nanoTime());
                    Evidence.add(Evidence.Tally.SNAPSHOTS_TAKEN, 1);
                    Image image = snap.images().getFirst();
                    mismatches.addAll(checkImage(fs, image.image(), files, take));
                    files.forget(take.start());
                    assertEquals(0, snap.images().getFirst().errorCode(), "image state");
                } finally {
                    snap.destroy();
                }
                if (KNOBS.soaking()) {
                    System.out.printf("[soak] %s round %d: %d file changes, %d mismatches, %s%n", fs, rounds + 1,
                            files.changeCount(), mismatches.size(), deadline.left());
                }
            }
            files.stop();
            assertTrue(files.changeCount() > 30, "the file writer ran during the takes");
        }
        Evidence.add(Evidence.Tally.MISMATCHES, mismatches.size());
        assertTrue(mismatches.isEmpty(), fs + ": " + mismatches.size() + " mismatches in " + rounds
                + " takes, the first: " + mismatches.stream().limit(10).toList());
    }

    /** Mounted read-only, then read-write and written, then fsck: each must agree with the model. */
    private List<Mismatch> checkImage(String fs, Path image, FileWorkload files, Take take) throws Exception {
        List<Mismatch> out = new ArrayList<>();
        long[] compared = {0, 0};
        for (String mode : List.of("ro", "rw")) {
            Path dir = mount(image, fs, mode);
            out.addAll(files.check(dir, take, image + " mounted " + mode, compared));
            if (mode.equals("rw")) {
                Files.writeString(dir.resolve("written-on-the-image"), "the image is writable\n");
            }
            unmount(dir);
        }
        Shell.Result fsck = fs.equals("xfs") ? Shell.run(FSCK_TIMEOUT, "xfs_repair", "-n", image.toString())
                : Shell.run(FSCK_TIMEOUT, "e2fsck", "-fn", image.toString());
        if (!fsck.ok()) {
            out.add(new Mismatch(image.toString(), -1, "fsck", "clean", fsck.output()));
        }
        Evidence.add(Evidence.Tally.FILES_VERIFIED, compared[0]);
        Evidence.add(Evidence.Tally.BYTES_COMPARED, compared[1]);
        return out;
    }

    private Path mount(Path device, String fs, String mode) throws IOException {
        Path dir = Files.createTempDirectory("integrity-" + fs);
        String options = mode + (fs.equals("xfs") && !device.equals(DISK) ? ",nouuid" : "");
        Shell.sh("mount", "-t", fs, "-o", options, device.toString(), dir.toString());
        mounted.add(dir);
        return dir;
    }

    private void unmount(Path dir) throws IOException {
        Shell.sh("umount", dir.toString());
        mounted.remove(dir);
        Files.deleteIfExists(dir);
    }
}
