package org.blksnap.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.repo.Secret;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * {@code backup create --chunk-size}: "Chunk size of a new repository, a
 * power of two from 64K to 16M". A create cannot finish on the host (the
 * take needs the module; BackupIT runs it in the guest), so what is checked
 * here is what the host can see: which values the option takes, and that a
 * repository of a non-default chunk size, made with the same
 * {@link Repository.NewRepository} create makes, restores byte for byte
 * with the size recorded in each backup.
 */
class BackupChunkSizeCliTest {
    @TempDir
    Path dir;

    /** A real block device passes create's checks; the take then fails for want of the module. */
    private static Path blockDevice() throws IOException {
        Path loop = Path.of("/dev/loop0");
        if (((Integer) Files.getAttribute(loop, "unix:mode") & 0170000) != 0060000) {
            throw new IllegalStateException("this test needs the block device /dev/loop0");
        }
        return loop;
    }

    private Run create(Path fresh, String chunkSize) throws IOException {
        return Run.of("backup", "create", "-d", blockDevice().toString(), "-r", fresh.toString(), "-s",
                dir.toString(), "-l", "1G", "--encryption", "none", "--chunk-size", chunkSize);
    }

    @ParameterizedTest
    @ValueSource(strings = {"96K", "32K", "32M", "2G", "0", "big"})
    void aChunkSizeOutsideTheHelpsRangeGetsOneLineAndNoRepository(String bad) throws IOException {
        Path fresh = dir.resolve("fresh");
        Run r = create(fresh, bad);
        assertEquals(ExitCodes.USAGE, r.status(), r::err);
        assertEquals(1, r.errLines(), r::err);
        assertTrue(r.err().contains("--chunk-size"), "the line names the option: " + r.err());
        assertFalse(Files.exists(fresh), "no repository made");
    }

    /** The value the user gave is echoed as given in bytes, not clamped to what fits an int. */
    @ParameterizedTest
    @CsvSource({"96K,98304", "32M,33554432", "2G,2147483648", "8G,8589934592"})
    void aSizeThatIsNoChunkSizeIsEchoedWhole(String bad, String bytes) throws IOException {
        Run r = create(dir.resolve("fresh"), bad);
        assertEquals(ExitCodes.USAGE, r.status(), r::err);
        assertTrue(r.err().contains("--chunk-size must be a power of two from 64K to 16M, not " + bytes + " bytes"),
                r.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"64K", "1M", "16M"})
    void aChunkSizeInTheHelpsRangeIsTakenUpToTheSnapshot(String good) throws IOException {
        Path fresh = dir.resolve("fresh");
        Run r = create(fresh, good);
        assertEquals(ExitCodes.MODULE_NOT_LOADED, r.status(), "only the missing module stops it: " + r.err());
        assertEquals(1, r.errLines(), r::err);
        assertFalse(Files.exists(fresh), "a new repository is made once the snapshot exists");
    }

    @Test
    void aBackupOfANonDefaultChunkSizeRestoresByteForByteAndRecordsItsSize() throws IOException {
        int chunk = Repository.DEFAULT_CHUNK_SIZE / 2;
        Path repo = dir.resolve("repo");
        byte[] content = new byte[11 * chunk + 4096];
        new Random(23).nextBytes(content);
        Path image = dir.resolve("vdb.img");
        Files.write(image, content);
        Repository.NewRepository made = new Repository.NewRepository(chunk, Repository.DEFAULT_PACK_SIZE, false, null);
        String id;
        try (Repository r = Repository.openForBackup(new LocalDirectoryStore(repo), made, Duration.ZERO,
                Secret.Source.NONE)) {
            id = new BackupEngine(r, BackupEngine.Options.defaults(), ProgressListener.NONE)
                    .run(new FileSource("/dev/vdb", image, content.length)).backupId();
        }
        try (Repository r = Repository.open(new LocalDirectoryStore(repo), ChunkStore.LockMode.SHARED)) {
            assertEquals(chunk, r.chunkSize());
            Manifest m = r.manifest(id);
            assertEquals(chunk, m.chunkSize());
            assertEquals(Math.ceilDiv(content.length, chunk), m.devices().getFirst().chunks().size());
        }

        JsonNode list = new ObjectMapper().readTree(Run.of("backup", "list", "-r", repo.toString(), "--json").out());
        assertEquals(chunk, list.get("backups").get(0).get("chunk_size").asInt());
        Path out = dir.resolve("restored.img");
        Run restore = Run.of("backup", "restore", id, "-r", repo.toString(), "--to", out.toString(), "--verify");
        assertEquals(0, restore.status(), restore::err);
        assertArrayEquals(content, Files.readAllBytes(out));
    }
}
