package org.blksnap.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;

import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.engine.SnapshotSource;
import org.blksnap.backup.engine.SourceDevice;
import org.blksnap.backup.repo.ChunkId;
import org.blksnap.backup.repo.ChunkIndex;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.ImageReader;
import org.blksnap.backup.repo.KeyRing;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.repo.Secret;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backup served from its (encrypted) repository, read by libnbd's nbdcopy
 * and nbdinfo and QEMU's qemu-img and qemu-io: what they read is the image
 * that was backed up, the all-zero chunks are holes, and a damaged chunk
 * fails only the reads that touch it.
 */
class RepositoryExportTest {
    static final int CHUNK = 64 << 10;
    /** 100 chunks and a short last one. */
    static final long SIZE = 100L * CHUNK + 3 * 4096;
    /** Chunks written as zeros: a run of them, and a lone one. */
    static final int[] ZERO_RUN = {10, 20};
    static final int LONE_ZERO = 57;
    /** A chunk of one repeated byte (checked with qemu-io's pattern read) next to the one damaged. */
    static final int PATTERN_CHUNK = 41;
    static final byte PATTERN = 0x5a;
    static final int DAMAGED_CHUNK = 40;
    static final Secret PASSWORD = new Secret.Password("serve test".toCharArray());

    @TempDir
    Path dir;
    Path image;
    byte[] content;
    Repository repo;
    NbdServer server;
    final List<String> warnings = new CopyOnWriteArrayList<>();
    String backupId;

    @BeforeEach
    void backUpAndServe() throws IOException {
        content = new byte[(int) SIZE];
        new Random(1919).nextBytes(content);
        Arrays.fill(content, ZERO_RUN[0] * CHUNK, ZERO_RUN[1] * CHUNK, (byte) 0);
        Arrays.fill(content, LONE_ZERO * CHUNK, (LONE_ZERO + 1) * CHUNK, (byte) 0);
        Arrays.fill(content, PATTERN_CHUNK * CHUNK, (PATTERN_CHUNK + 1) * CHUNK, PATTERN);
        image = dir.resolve("vdb.img");
        Files.write(image, content);
        LocalDirectoryStore store = new LocalDirectoryStore(dir.resolve("repo"));
        try (Repository r = Repository.openForBackup(store, new Repository.NewRepository(CHUNK, 1 << 20, true,
                new KeyRing.Argon2(64, 1, 1)), Duration.ZERO, () -> PASSWORD)) {
            SnapshotSource source = new SnapshotSource() {
                @Override
                public List<SourceDevice> devices() {
                    return List.of(new SourceDevice("/dev/vdb", image, SIZE, null));
                }

                @Override
                public void checkIntact() {
                }

                @Override
                public void close() {
                }
            };
            backupId = new BackupEngine(r, BackupEngine.Options.defaults(), ProgressListener.NONE).run(source)
                    .backupId();
        }
        repo = Repository.open(store, ChunkStore.LockMode.SHARED, Duration.ZERO, () -> PASSWORD);
        Manifest m = repo.manifest(backupId);
        RepositoryExport export = new RepositoryExport(new ImageReader(repo, m.devices().getFirst(), 8),
                "backup " + backupId + " of /dev/vdb", warnings::add);
        server = NbdServer.start(new ListenAddress.Unix(dir.resolve("nbd.sock")),
                new Exports(Map.of("vdb", export)), new ConnectionListener() {
                });
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
        repo.close();
    }

    String uri() {
        return server.address().uri("vdb");
    }

    @Test
    void nbdcopyEqualsTheBackedUpImage() throws Exception {
        Path out = dir.resolve("copy.img");
        Tool.ok("nbdcopy", uri(), out.toString());
        assertEquals(-1, Files.mismatch(image, out));
        assertEquals(List.of(), warnings);
    }

    @Test
    void qemuImgConvertEqualsTheBackedUpImage() throws Exception {
        Path out = dir.resolve("convert.img");
        Tool.ok("qemu-img", "convert", "-f", "raw", "-O", "raw", uri(), out.toString());
        assertEquals(-1, Files.mismatch(image, out));
    }

    @Test
    void nbdinfoSeesTheSizeAndReadOnly() throws Exception {
        String out = Tool.ok("nbdinfo", "--json", uri());
        assertTrue(out.contains("\"export-size\": " + SIZE), out);
        assertTrue(out.contains("\"is_read_only\": true"), out);
        assertTrue(out.contains("backup " + backupId), "description: " + out);
    }

    @Test
    void baseAllocationReportsTheZeroChunksAsHoles() throws Exception {
        List<long[]> expected = List.of(
                new long[] {0, (long) ZERO_RUN[0] * CHUNK, 0},
                new long[] {(long) ZERO_RUN[0] * CHUNK, (long) (ZERO_RUN[1] - ZERO_RUN[0]) * CHUNK, 3},
                new long[] {(long) ZERO_RUN[1] * CHUNK, (long) (LONE_ZERO - ZERO_RUN[1]) * CHUNK, 0},
                new long[] {(long) LONE_ZERO * CHUNK, CHUNK, 3},
                new long[] {(long) (LONE_ZERO + 1) * CHUNK, SIZE - (long) (LONE_ZERO + 1) * CHUNK, 0});
        List<long[]> got = map();
        assertEquals(render(expected), render(got));
    }

    @Test
    void aDamagedChunkFailsOnlyTheReadsThatTouchIt() throws Exception {
        damage(DAMAGED_CHUNK);
        long bad = (long) DAMAGED_CHUNK * CHUNK;
        // Twice: the server keeps serving, and says it once.
        for (int i = 0; i < 2; i++) {
            Tool.Result r = Tool.run("qemu-io", "-r", "-f", "raw", "-c", "read " + (bad + 4096) + " 4096", uri());
            assertTrue(r.out().contains("Input/output error") || r.err().contains("Input/output error"),
                    "EIO for the damaged chunk: " + r.out() + r.err());
        }
        assertEquals(1, warnings.size(), "one line per damaged chunk: " + warnings);
        assertTrue(warnings.getFirst().contains("bytes " + bad + ".." + (bad + CHUNK - 1) + " of /dev/vdb"),
                warnings.getFirst());
        String good = Tool.ok("qemu-io", "-r", "-f", "raw", "-c",
                "read -P " + PATTERN + " " + (long) PATTERN_CHUNK * CHUNK + " " + CHUNK, uri());
        assertTrue(good.contains("read " + CHUNK + "/" + CHUNK + " bytes"), good);
        Tool.Result copy = Tool.run("nbdcopy", uri(), dir.resolve("copy.img").toString());
        assertNotEquals(0, copy.exit(), "a whole copy cannot succeed");
        assertEquals(SIZE + "", Tool.ok("nbdinfo", "--size", uri()).strip(), "still serving");
    }

    /** Flips a bit in the stored bytes of a chunk of the backup. */
    private void damage(int chunk) throws IOException {
        ChunkId id = repo.manifest(backupId).devices().getFirst().chunks().get(chunk);
        ChunkIndex.Location loc = repo.index().get(id);
        Path pack = ((LocalDirectoryStore) repo.store()).path(ChunkStore.Kind.PACK, loc.pack());
        byte[] b = Files.readAllBytes(pack);
        b[(int) loc.offset() + loc.length() / 2] ^= 1;
        Files.write(pack, b);
    }

    private List<long[]> map() throws Exception {
        List<long[]> rows = new ArrayList<>();
        for (String line : Tool.ok("nbdinfo", "--map", uri()).strip().split("\n")) {
            String[] f = line.strip().split("\\s+");
            rows.add(new long[] {Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2])});
        }
        return rows;
    }

    private static String render(List<long[]> rows) {
        StringBuilder sb = new StringBuilder();
        for (long[] r : rows) {
            sb.append(Arrays.toString(r)).append('\n');
        }
        return sb.toString();
    }
}
