package org.blksnap.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.blksnap.api.Session;
import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.BackupResult;
import org.blksnap.backup.engine.Backups;
import org.blksnap.backup.engine.DeviceResult;

/**
 * Scenario 8: the backup engine (blksnap-backup) on the measured disk. A
 * full backup against a raw sequential read of the snapshot image of the
 * same disk, then an incremental backup after 1% of the 4 KiB blocks
 * changed against the full one.
 *
 * <p>The backup covers the whole device, not the profile's region, so the
 * whole device is written first, with half-compressible data: zeroes would
 * be skipped as all-zero chunks and fio's default buffers would not
 * compress at all, and either would make the backup's work unrealistic.
 */
final class BackupFigures extends Scenario {
    private static final Target FULL = Target.valueAtLeast(0.8,
            "the raw read only moves the image's bytes, while the backup also hashes (SHA-256) and compresses "
            + "(zstd) every 1 MiB chunk and writes it with an fsync per chunk file, on the guest's emulated CPUs "
            + "where computation costs far more next to I/O than on hardware. Fix: more reads in flight than "
            + "worker threads (so hashing overlaps reading), and one fsync per batch of chunk files instead of "
            + "per file.");
    private static final Target INCREMENTAL = Target.valueAtMost(0.10,
            "the incremental reads whole CBT blocks (64 KiB by default), so 1% of scattered 4 KiB blocks marks "
            + "about 15% of the blocks, and every 1 MiB backup chunk holding a change (nearly all of them here) "
            + "is rebuilt: its previous data read from the repository and decompressed, the changed blocks laid "
            + "over it, hashed, compressed and stored again. Fix: smaller backup chunks or a CBT block closer to "
            + "the write size for scattered changes; the cost scales with the chunks touched, not the bytes "
            + "changed.");
    /** Where the repository goes: a tmpfs of its own, so its writes cost RAM, not a disk being measured. */
    private static final Path REPO_MOUNT = Path.of("/tmp/blksnap-bench-repo");
    /** Half of every buffer compressible: neither all-zero chunks nor incompressible noise. */
    private static final List<String> DATA = List.of("--refill_buffers", "--buffer_compress_percentage=50");

    BackupFigures() {
        super(8, "backup figures");
    }

    @Override
    void run(Bench b) throws Exception {
        Path dev = b.disks().main();
        long devBytes = Guest.deviceBytes(dev);
        Bench.detach(dev);
        write(new FioJob("s8-fill", dev, "write", 1 << 20, devBytes, 0, 0, 0, b.profile().iodepth()));
        FioResult raw;
        try (Session s = b.snapshot(List.of(dev))) {
            Path image = s.images().getFirst().image();
            raw = b.fio(new FioJob("s8-image-read-1m", image, "read", 1 << 20, devBytes, 0, 0, 0,
                    b.profile().iodepth()));
        } finally {
            // The full backup must start a new CBT generation of its own, not inherit this one.
            Bench.detach(dev);
        }
        Files.createDirectories(REPO_MOUNT);
        // Room for the full and the incremental even if nothing compressed.
        long tmpfsBytes = 2 * devBytes + (64L << 20);
        Guest.sh("mount", "-t", "tmpfs", "-o", "size=" + tmpfsBytes, "blksnap-bench-repo", REPO_MOUNT.toString());
        try {
            Path repo = REPO_MOUNT.resolve("repo");
            BackupResult full = backup(b, repo, dev, true);
            check(full, "full", devBytes);
            double fullSeconds = seconds(full);
            double fullMib = full.bytesRead() / fullSeconds / (1 << 20);
            b.add(Measurement.judged(number(), "full backup", fullMib, "MiB/s", null, null, b.quick(),
                    mib(full.bytesRead()) + " MiB read in " + Format.number(fullSeconds) + " s, "
                            + mib(full.bytesStored()) + " MiB stored after deduplication and zstd; repository "
                            + "on a guest tmpfs; data half compressible",
                    List.of()));
            b.add(Measurement.judged(number(), "full backup vs raw image read", fullMib / raw.mibPerSecond(),
                    "× raw image read", null, FULL, b.quick(),
                    "backup MiB/s divided by a 1 MiB sequential direct read (fio, queue depth "
                            + b.profile().iodepth() + ") of the snapshot image of the same device, "
                            + Format.number(raw.mibPerSecond()) + " MiB/s",
                    List.of(raw.file())));

            long blocks = devBytes / 4096;
            long changed = Math.max(1, blocks / 100);
            // fio's random map (on by default) never picks a block twice, so io_size is the changed share.
            write(new FioJob("s8-change-1pct", dev, "randwrite", 4096, devBytes, changed * 4096, 0, 0,
                    b.profile().iodepth()));
            BackupResult inc = backup(b, repo, dev, false);
            check(inc, "incremental", 0);
            double incSeconds = seconds(inc);
            b.add(Measurement.judged(number(), "incremental after 1% change vs full", incSeconds / fullSeconds,
                    "× full time", null, INCREMENTAL, b.quick(),
                    changed + " random 4 KiB blocks of " + blocks + " changed; incremental "
                            + Format.number(incSeconds) + " s against the full " + Format.number(fullSeconds) + " s",
                    List.of()));
            DeviceResult d = inc.devices().getFirst();
            b.add(Measurement.judged(number(), "bytes read by the incremental", inc.bytesRead() / (double) (1 << 20),
                    "MiB", null, null, b.quick(),
                    Format.number(100.0 * inc.bytesRead() / devBytes) + "% of the device (the full read "
                            + mib(full.bytesRead()) + " MiB) for " + Format.number(100.0 * changed * 4096 / devBytes)
                            + "% changed; chunks new " + d.chunksNew() + ", reused " + d.chunksReused() + ", zero "
                            + d.chunksZero() + "; " + mib(inc.bytesStored()) + " MiB stored",
                    List.of()));
        } finally {
            try {
                Bench.detach(dev);
            } finally {
                Guest.sh("umount", REPO_MOUNT.toString());
            }
        }
    }

    private static BackupResult backup(Bench b, Path repo, Path dev, boolean full) throws IOException {
        long limit = Guest.deviceBytes(b.disks().storage());
        BackupEngine.Options o = BackupEngine.Options.defaults().withFull(full).withToolVersion("blksnap-bench");
        BackupResult r = Backups.backup(repo, List.of(dev), b.storage(), limit, o);
        b.log("  " + (full ? "full" : "incremental") + " backup: " + mib(r.bytesRead()) + " MiB read, "
                + mib(r.bytesStored()) + " MiB stored in " + Format.number(seconds(r)) + " s");
        return r;
    }

    /** A figure of the wrong kind of backup would compare nothing: fail instead. */
    private static void check(BackupResult r, String mode, long minRead) {
        DeviceResult d = r.devices().getFirst();
        if (!d.mode().equals(mode)) {
            throw new IllegalStateException("expected a " + mode + " backup, the engine made a " + d.mode()
                    + " one: " + d.reason());
        }
        if (r.bytesRead() < minRead || r.bytesRead() <= 0) {
            throw new IllegalStateException("the " + mode + " backup read " + r.bytesRead() + " bytes, expected at "
                    + "least " + Math.max(1, minRead));
        }
    }

    private static double seconds(BackupResult r) {
        double s = r.elapsed().toNanos() / 1e9;
        if (!(s > 0)) {
            throw new IllegalStateException("the backup reported no elapsed time: " + r.elapsed());
        }
        return s;
    }

    private static long mib(long bytes) {
        return bytes >> 20;
    }

    /** Writes that prepare the device, not measurements: fio's output is not kept. */
    private static void write(FioJob job) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("fio", "--output=/dev/null"));
        cmd.addAll(job.arguments());
        cmd.addAll(DATA);
        Guest.sh(cmd);
    }
}
