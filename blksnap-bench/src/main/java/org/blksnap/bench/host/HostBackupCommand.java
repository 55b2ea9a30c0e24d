package org.blksnap.bench.host;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;

import org.blksnap.api.Sizes;
import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.BackupResult;
import org.blksnap.backup.engine.DeviceResult;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.engine.SnapshotSource;
import org.blksnap.backup.engine.SourceDevice;
import org.blksnap.backup.repo.BackupSummary;
import org.blksnap.backup.repo.ChunkId;
import org.blksnap.backup.repo.ChunkIds;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.repo.s3.S3Location;
import org.blksnap.backup.repo.s3.S3Options;
import org.blksnap.backup.repo.s3.S3Store;

import com.fasterxml.jackson.databind.ObjectMapper;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The host side of {@code make bench-backup}: makes the images, changes
 * them under a simulated change tracker, and backs them up with the engine
 * reading the file as its snapshot image (no kernel, no guest). The script
 * scripts/bench-backup times these steps next to borg and restic.
 */
@Command(name = "host-backup", mixinStandardHelpOptions = true,
        description = "Steps of the host backup benchmark (see scripts/bench-backup).",
        subcommands = {HostBackupCommand.MakeImage.class, HostBackupCommand.MakeFs.class,
            HostBackupCommand.Scatter.class, HostBackupCommand.RewriteFiles.class, HostBackupCommand.Backup.class,
            HostBackupCommand.Synthesize.class})
public final class HostBackupCommand {
    private static final int BUF = 4 << 20;

    private HostBackupCommand() {
    }

    /** {@code make-image}: a half-compressible image, tracked from now on. */
    @Command(name = "make-image", description = "Write a half-compressible image and start tracking it.")
    static final class MakeImage implements Callable<Integer> {
        @Option(names = "--out", required = true)
        Path out;
        @Option(names = "--size", required = true)
        String size;

        @Override
        public Integer call() throws IOException {
            long bytes = Sizes.parseBytes(size);
            Random r = new Random(1);
            byte[] buf = new byte[BUF];
            try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                for (long off = 0; off < bytes; off += BUF) {
                    int n = (int) Math.min(BUF, bytes - off);
                    TrackedImage.halfCompressible(r, buf, n);
                    ch.write(ByteBuffer.wrap(buf, 0, n), off);
                }
            }
            TrackedImage.track(out);
            return 0;
        }
    }

    /**
     * {@code make-fs}: an ext4 image (mke2fs -d) holding files of many
     * sizes, 1 KiB to 16 MiB, half compressible, filling about 60% of it.
     */
    @Command(name = "make-fs", description = "Write an ext4 image full of files of many sizes, tracked from now on.")
    static final class MakeFs implements Callable<Integer> {
        @Option(names = "--out", required = true)
        Path out;
        @Option(names = "--size", required = true)
        String size;
        @Option(names = "--tree", required = true, description = "Scratch directory for the files (removed after).")
        Path tree;

        @Override
        public Integer call() throws Exception {
            long bytes = Sizes.parseBytes(size);
            Random r = new Random(2);
            byte[] buf = new byte[BUF];
            List<String> files = new ArrayList<>();
            long total = 0;
            for (int i = 0; total < bytes * 6 / 10; i++) {
                // Log-uniform sizes: as many small files as large ones per doubling.
                long fileSize = Math.max(1024, Math.min(bytes * 6 / 10 - total,
                        (long) Math.pow(2, 10 + r.nextDouble() * 14)));
                Path dir = tree.resolve("d" + (i % 64));
                Files.createDirectories(dir);
                Path f = dir.resolve("f" + i);
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    for (long off = 0; off < fileSize; off += BUF) {
                        int n = (int) Math.min(BUF, fileSize - off);
                        TrackedImage.halfCompressible(r, buf, n);
                        ch.write(ByteBuffer.wrap(buf, 0, n), off);
                    }
                }
                files.add(tree.relativize(f) + " " + fileSize);
                total += fileSize;
            }
            Process p = new ProcessBuilder("mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", "-d", tree.toString(),
                    out.toString(), (bytes >> 10) + "k").inheritIO().start();
            if (p.waitFor() != 0) {
                throw new IOException("mke2fs failed: " + p.exitValue());
            }
            Files.write(out.resolveSibling(out.getFileName() + ".files"), files);
            TrackedImage.track(out);
            System.out.println(files.size() + " files, " + (total >> 20) + " MiB");
            return 0;
        }
    }

    /** {@code scatter}: random 4 KiB writes over a share of the image's blocks. */
    @Command(name = "scatter", description = "Overwrite PERCENT of the image's 4 KiB blocks, scattered.")
    static final class Scatter implements Callable<Integer> {
        @Option(names = "--image", required = true)
        Path image;
        @Option(names = "--percent", defaultValue = "1")
        double percent;

        @Override
        public Integer call() throws IOException {
            TrackedImage t = TrackedImage.open(image);
            long blocks = t.size / 4096;
            int n = (int) Math.max(1, blocks * percent / 100);
            Random r = new Random(3);
            java.util.BitSet chosen = new java.util.BitSet();
            byte[] buf = new byte[4096];
            try (FileChannel ch = t.openForWrite()) {
                while (chosen.cardinality() < n) {
                    int b = (int) (r.nextLong(blocks));
                    if (!chosen.get(b)) {
                        chosen.set(b);
                        TrackedImage.halfCompressible(r, buf, buf.length);
                        t.write(ch, (long) b * 4096, buf, buf.length);
                    }
                }
            }
            t.close();
            System.out.println(n + " blocks of 4 KiB written");
            return 0;
        }
    }

    /**
     * {@code rewrite-files}: a share of the files of a make-fs image gets new
     * content in place (its blocks as debugfs lists them), as an application
     * rewriting its files would.
     */
    @Command(name = "rewrite-files", description = "Rewrite PERCENT of the files of a make-fs image in place.")
    static final class RewriteFiles implements Callable<Integer> {
        @Option(names = "--image", required = true)
        Path image;
        @Option(names = "--percent", defaultValue = "1")
        double percent;

        @Override
        public Integer call() throws Exception {
            List<String> files = Files.readAllLines(image.resolveSibling(image.getFileName() + ".files"));
            int n = (int) Math.max(1, files.size() * percent / 100);
            Random r = new Random(4);
            List<String[]> chosen = new ArrayList<>();
            java.util.Set<Integer> seen = new java.util.HashSet<>();
            while (chosen.size() < n) {
                int i = r.nextInt(files.size());
                if (seen.add(i)) {
                    chosen.add(files.get(i).split(" "));
                }
            }
            StringBuilder cmds = new StringBuilder();
            for (String[] f : chosen) {
                cmds.append("blocks /").append(f[0]).append('\n');
            }
            Path cmdFile = Files.createTempFile("bench-debugfs", ".cmd");
            Files.writeString(cmdFile, cmds);
            Process p = new ProcessBuilder("debugfs", "-f", cmdFile.toString(), image.toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String outText = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IOException("debugfs failed: " + outText);
            }
            Files.delete(cmdFile);
            // Without a terminal debugfs prints each result on its own line,
            // in command order, with no echo of the command.
            List<String> lines = outText.lines().filter(l -> !l.startsWith("debugfs")).toList();
            if (lines.size() != chosen.size()) {
                throw new IOException("debugfs listed " + lines.size() + " files, expected " + chosen.size());
            }
            TrackedImage t = TrackedImage.open(image);
            long bytes = 0;
            byte[] buf = new byte[4096];
            try (FileChannel ch = t.openForWrite()) {
                for (int i = 0; i < chosen.size(); i++) {
                    long size = Long.parseLong(chosen.get(i)[1]);
                    String[] blocks = lines.get(i).strip().split("\\s+");
                    long left = size;
                    for (String b : blocks) {
                        if (b.isEmpty() || left <= 0) {
                            continue;
                        }
                        int len = (int) Math.min(4096, left);
                        TrackedImage.halfCompressible(r, buf, len);
                        t.write(ch, Long.parseLong(b) * 4096, buf, len);
                        left -= len;
                        bytes += len;
                    }
                    if (left > 0) {
                        throw new IOException(chosen.get(i)[0] + ": debugfs named too few blocks");
                    }
                }
            }
            t.close();
            System.out.println(n + " of " + files.size() + " files rewritten, " + (bytes >> 10) + " KiB");
            return 0;
        }
    }

    /** {@code backup}: the engine on the image, as 'blksnap backup create' runs it on a snapshot image. */
    @Command(name = "backup", description = "Back the image up (incremental when its tracker allows).")
    static final class Backup implements Callable<Integer> {
        @Option(names = "--image", required = true)
        Path image;
        @Option(names = "--repo", required = true,
                description = "A directory, or s3:http://HOST:PORT/BUCKET/PREFIX (credentials: the SDK's chain).")
        String repo;
        @Option(names = "--chunk-size", defaultValue = "256K")
        String chunkSize;

        @Override
        public Integer call() throws IOException {
            TrackedImage t = TrackedImage.open(image);
            SourceDevice dev = t.take("/dev/bench");
            SnapshotSource source = new SnapshotSource() {
                @Override
                public List<SourceDevice> devices() {
                    return List.of(dev);
                }

                @Override
                public void checkIntact() {
                }

                @Override
                public void close() {
                }
            };
            BackupResult r;
            try (ChunkStore store = S3Location.isS3(repo)
                    ? S3Store.connect(S3Location.parse(repo), S3Options.defaults())
                    : new LocalDirectoryStore(Path.of(repo));
                    Repository repository = Repository.openForBackup(store, (int) Sizes.parseBytes(chunkSize),
                            Duration.ZERO)) {
                r = new BackupEngine(repository, BackupEngine.Options.defaults().withToolVersion("bench"),
                        ProgressListener.NONE).run(source);
            }
            DeviceResult d = r.devices().getFirst();
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("mode", d.mode());
            o.put("seconds", r.elapsed().toNanos() / 1e9);
            o.put("bytes_read", d.bytesRead());
            o.put("chunks_read", d.chunksRead());
            o.put("chunks", Math.ceilDiv(d.sizeBytes(), Sizes.parseBytes(chunkSize)));
            o.put("bytes_stored", d.bytesStored());
            System.out.println(new ObjectMapper().writeValueAsString(o));
            return 0;
        }
    }

    /**
     * {@code synthesize}: backups of a large device written straight into a
     * repository's format, for timing 'backup list' (their chunks are not
     * stored: only list may be run on that repository).
     */
    @Command(name = "synthesize", description = "Write N backups of a device of SIZE (manifests and summaries only).")
    static final class Synthesize implements Callable<Integer> {
        @Option(names = "--repo", required = true)
        Path repo;
        @Option(names = "--backups", defaultValue = "100")
        int backups;
        @Option(names = "--device-size", defaultValue = "1T")
        String deviceSize;
        @Option(names = "--data-every", defaultValue = "16",
                description = "One chunk in N holds data (a distinct id), the rest are all zero.")
        int dataEvery;

        @Override
        public Integer call() throws IOException {
            long size = Sizes.parseBytes(deviceSize);
            int cs = Repository.DEFAULT_CHUNK_SIZE;
            int chunks = Math.toIntExact(Math.ceilDiv(size, cs));
            Random r = new Random(5);
            try (Repository repository = Repository.openForBackup(new LocalDirectoryStore(repo), cs,
                    Duration.ZERO)) {
                Instant t = Instant.parse("2026-01-01T00:00:00Z");
                for (int b = 0; b < backups; b++) {
                    ChunkIds ids = new ChunkIds(chunks);
                    for (int i = 0; i < chunks; i += dataEvery) {
                        ids.set(i, new ChunkId(r.nextLong(), r.nextLong(), r.nextLong(), r.nextLong() | 1));
                    }
                    String when = t.plus(Duration.ofHours(b)).toString();
                    String id = "20260101-" + String.format("%06d", b) + "-0000";
                    BackupSummary s = new BackupSummary(BackupSummary.FORMAT, id, "synthetic", when, when, "bench",
                            cs, List.of(new BackupSummary.DeviceSummary("/dev/big", null, size, b == 0 ? "full"
                                    : "incremental", null, null, 0, 0, size, 0, chunks)));
                    repository.writeBackup(new Manifest(s, List.of(ids)));
                }
            }
            return 0;
        }
    }
}
