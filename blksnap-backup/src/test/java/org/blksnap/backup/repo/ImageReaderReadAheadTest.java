package org.blksnap.backup.repo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.engine.SnapshotSource;
import org.blksnap.backup.engine.SourceDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sequential reader of a backup (the NBD server of a mounted backup, one
 * request after the other) finds the next chunks fetched before it asks;
 * a random reader does not cause fetches it did not ask for; a damaged chunk
 * met while reading ahead fails only the read that needs it.
 */
class ImageReaderReadAheadTest {
    private static final int CHUNK = 64 << 10;
    private static final int CHUNKS = 32;
    private static final int CACHE = 16;

    @TempDir
    Path dir;
    byte[] content;
    Repository repo;
    Manifest.DeviceImage device;

    @BeforeEach
    void backUp() throws IOException {
        content = new byte[CHUNKS * CHUNK];
        new Random(19).nextBytes(content);
        Path image = dir.resolve("vda.img");
        Files.write(image, content);
        LocalDirectoryStore store = new LocalDirectoryStore(dir.resolve("repo"));
        String id;
        try (Repository r = Repository.openForBackup(store, CHUNK, Duration.ZERO)) {
            SnapshotSource source = new SnapshotSource() {
                @Override
                public List<SourceDevice> devices() {
                    return List.of(new SourceDevice("/dev/vda", image, content.length, null));
                }

                @Override
                public void checkIntact() {
                }

                @Override
                public void close() {
                }
            };
            id = new BackupEngine(r, BackupEngine.Options.defaults(), ProgressListener.NONE).run(source).backupId();
        }
        repo = Repository.open(store, ChunkStore.LockMode.SHARED, Duration.ZERO);
        device = repo.manifest(id).devices().getFirst();
    }

    @AfterEach
    void close() throws IOException {
        repo.close();
    }

    private byte[] read(ImageReader r, long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        r.read(offset, b);
        return b.array();
    }

    private byte[] expected(long offset, int length) {
        return Arrays.copyOfRange(content, (int) offset, (int) offset + length);
    }

    @Test
    void aSequentialReaderFindsTheNextChunksFetched() throws IOException {
        ImageReader r = new ImageReader(repo, device, CACHE);
        // As the kernel's client asks: pieces smaller than a chunk, each where the last ended.
        int piece = CHUNK / 2;
        for (long off = 0; off < 4L * CHUNK; off += piece) {
            assertArrayEquals(expected(off, piece), read(r, off, piece), "at " + off);
        }
        r.awaitFetches();
        for (int c = 4; c < 4 + ImageReader.READ_AHEAD_CHUNKS; c++) {
            assertTrue(r.cached(c), "chunk " + c + " read ahead");
        }
        assertFalse(r.cached(4 + ImageReader.READ_AHEAD_CHUNKS), "no further than the read-ahead");
        // What was read ahead is what the device holds.
        for (long off = 4L * CHUNK; off < CHUNKS * (long) CHUNK; off += piece) {
            assertArrayEquals(expected(off, piece), read(r, off, piece), "at " + off);
        }
    }

    @Test
    void aRandomReaderFetchesOnlyWhatItReads() throws IOException {
        ImageReader r = new ImageReader(repo, device, CACHE);
        long off = 9L * CHUNK + 4096;
        assertArrayEquals(expected(off, 4096), read(r, off, 4096));
        off = 20L * CHUNK + 512;
        assertArrayEquals(expected(off, 4096), read(r, off, 4096));
        r.awaitFetches();
        for (int c = 0; c < CHUNKS; c++) {
            assertTrue(r.cached(c) == (c == 9 || c == 20), "chunk " + c);
        }
    }

    @Test
    void aDamagedChunkAheadFailsOnlyTheReadThatNeedsIt() throws IOException {
        int bad = 2;
        ChunkId id = device.chunks().get(bad);
        ChunkIndex.Location loc = repo.index().get(id);
        Path pack = ((LocalDirectoryStore) repo.store()).path(ChunkStore.Kind.PACK, loc.pack());
        byte[] b = Files.readAllBytes(pack);
        b[(int) loc.offset() + loc.length() / 2] ^= 1;
        Files.write(pack, b);

        ImageReader r = new ImageReader(repo, device, CACHE);
        assertArrayEquals(expected(0, CHUNK), read(r, 0, CHUNK), "chunk 0, with the damaged chunk 2 ahead");
        assertArrayEquals(expected(CHUNK, CHUNK), read(r, CHUNK, CHUNK));
        r.awaitFetches();
        assertFalse(r.cached(bad));
        ChunkException e = assertThrows(ChunkException.class, () -> read(r, 2L * CHUNK, 4096));
        assertTrue(e.getMessage().contains("bytes " + 2L * CHUNK + ".." + (3L * CHUNK - 1) + " of /dev/vda"),
                e.getMessage());
        assertArrayEquals(expected(3L * CHUNK, CHUNK), read(r, 3L * CHUNK, CHUNK), "the chunk after it");
    }
}
