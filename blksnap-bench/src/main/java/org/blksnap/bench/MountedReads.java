package org.blksnap.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.Backups;

/**
 * Scenario 11: file-level restore. An ext4 on the measured disk holding one
 * large half-compressible file is backed up into a plain repository on a
 * tmpfs; the backup is restored raw ({@code blksnap backup restore} to a
 * tmpfs file) and mounted ({@code blksnap backup mount}, kernel nbd client),
 * and the file is read sequentially from the mount as cp would, through
 * the page cache.
 */
final class MountedReads extends Scenario {
    private static final Path TMPFS = Path.of("/tmp/blksnap-bench-mount");
    private static final List<String> DATA = List.of("--refill_buffers", "--buffer_compress_percentage=50");

    MountedReads() {
        super(11, "NBD: sequential file read of a mounted backup vs its raw restore");
    }

    @Override
    void run(Bench b) throws Exception {
        Path dev = b.disks().main();
        long devBytes = Guest.deviceBytes(dev);
        // The file fills most of the filesystem, so the restore's speed is mostly that of its data too.
        long fileBytes = Math.min(b.profile().regionBytes(), devBytes * 3 / 4) & ~((1L << 20) - 1);
        Bench.detach(dev);
        Files.createDirectories(TMPFS);
        Guest.sh("mount", "-t", "tmpfs", "-o", "size=" + (3 * devBytes + (64L << 20)), "blksnap-bench-mount",
                TMPFS.toString());
        Path live = TMPFS.resolve("live");
        Path mnt = TMPFS.resolve("mnt");
        Path repo = TMPFS.resolve("repo");
        try {
            Files.createDirectories(live);
            Files.createDirectories(mnt);
            Guest.sh("mkfs.ext4", "-qF", dev.toString());
            Guest.sh("mount", dev.toString(), live.toString());
            try {
                List<String> fio = new ArrayList<>(List.of("fio", "--output=/dev/null", "--name=s11-file",
                        "--filename=" + live.resolve("data"), "--rw=write", "--bs=1M", "--size=" + fileBytes,
                        "--end_fsync=1"));
                fio.addAll(DATA);
                Guest.sh(fio);
            } finally {
                Guest.sh("umount", live.toString());
            }
            BackupEngine.Options o = BackupEngine.Options.defaults().withFull(true).withToolVersion("blksnap-bench");
            Backups.backup(repo, List.of(dev), b.storage(), Guest.deviceBytes(b.disks().storage()), o);
            Bench.detach(dev);

            Path restored = TMPFS.resolve("restored.img");
            JsonNode r = new ObjectMapper().readTree(Launcher.run("backup", "restore", "latest", "--repo",
                    repo.toString(), "--to", restored.toString(), "--json", "--quiet"));
            double restoreSeconds = r.get("seconds").asDouble();
            long restoreBytes = r.get("size").asLong();
            Files.delete(restored);
            double restoreMib = restoreBytes / restoreSeconds / (1 << 20);

            Launcher.run("backup", "mount", "latest", "--repo", repo.toString(), mnt.toString());
            double readSeconds;
            try {
                Launcher.dropCaches();
                readSeconds = readAll(mnt.resolve("data"), fileBytes);
            } finally {
                Launcher.run("backup", "umount", mnt.toString());
            }
            double readMib = fileBytes / readSeconds / (1 << 20);
            b.log("  restore " + (restoreBytes >> 20) + " MiB in " + Format.number(restoreSeconds) + " s; mounted "
                    + "read " + (fileBytes >> 20) + " MiB in " + Format.number(readSeconds) + " s");
            b.add(Measurement.judged(number(), "raw restore of the backup", restoreMib, "MiB/s", null, null,
                    b.quick(), "blksnap backup restore of the whole " + (restoreBytes >> 20) + " MiB device to a "
                            + "tmpfs file, its own timing (JVM start excluded); repository on a tmpfs, data half "
                            + "compressible", List.of()));
            b.add(Measurement.judged(number(), "sequential file read of the mounted backup", readMib, "MiB/s",
                    readMib / restoreMib, null, b.quick(), "a " + (fileBytes >> 20) + " MiB file of an ext4 read "
                            + "with 1 MiB buffered reads from blksnap backup mount (kernel nbd client), page "
                            + "cache dropped before; ratio to the raw restore of the same backup", List.of()));
        } finally {
            try {
                Bench.detach(dev);
            } finally {
                Guest.sh("umount", "--recursive", TMPFS.toString());
            }
        }
    }

    /** @return the seconds a sequential buffered read of the whole file takes */
    private static double readAll(Path file, long expected) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        long total = 0;
        long t0 = System.nanoTime();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            for (int n; (n = ch.read(buf.clear())) >= 0;) {
                total += n;
            }
        }
        double s = (System.nanoTime() - t0) / 1e9;
        if (total != expected) {
            throw new IOException(file + ": read " + total + " bytes, the file was written with " + expected);
        }
        return s;
    }
}
