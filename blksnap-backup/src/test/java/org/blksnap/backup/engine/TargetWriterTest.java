package org.blksnap.backup.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.blksnap.backup.PageCache;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restore's writes to a regular file: the bytes land where they belong
 * from several threads at once, holes stay holes, the size is exact, and
 * where the file system takes O_DIRECT nothing written stays in the page
 * cache (measured with fincore); where it refuses it (tmpfs before Linux
 * 6.6) the same bytes go through the page cache.
 */
class TargetWriterTest {
    private static final int CHUNK = 64 << 10;
    /** Seven chunks and a tail that is no whole block. */
    private static final long SIZE = 7L * CHUNK + 1000;

    @TempDir
    Path dir;

    @Test
    void chunksFromManyThreadsLandInPlaceWithHolesAndAnUnalignedTail() throws Exception {
        byte[] expected = writeImage(dir.resolve("image"));
        assertArrayEquals(expected, Files.readAllBytes(dir.resolve("image")));
    }

    @Test
    void aFileSystemThatTakesODirectKeepsNothingInThePageCache() throws Exception {
        Path image = dir.resolve("image");
        boolean direct;
        try (TargetWriter out = TargetWriter.createFile(image, SIZE, CHUNK)) {
            direct = out.direct();
            assertEquals(PageCache.takesODirect(dir), direct, "O_DIRECT used exactly where " + dir + " takes it");
        }
        Files.delete(image);
        writeImage(image);
        long cached = PageCache.residentBytes(image);
        if (direct) {
            // Only the tail's page was written through the cache.
            assertTrue(cached <= 4096, cached + " bytes of " + image + " in the page cache");
        } else {
            assertTrue(cached >= 6L * CHUNK, "through the page cache: " + cached + " bytes in it");
        }
    }

    @Test
    void tmpfsGetsTheSameBytesWithOrWithoutODirect() throws Exception {
        Path shm = Path.of("/dev/shm");
        Path d = Files.createTempDirectory(shm, "target-writer-");
        try {
            Path image = d.resolve("image");
            byte[] expected = writeImage(image);
            assertArrayEquals(expected, Files.readAllBytes(image));
            try (TargetWriter out = TargetWriter.createFile(d.resolve("probe"), 1, CHUNK)) {
                assertEquals(PageCache.takesODirect(d), out.direct());
            }
        } finally {
            try (var files = Files.list(d)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(d);
        }
    }

    /**
     * One worker's chunks that follow each other are gathered into writes of
     * up to {@link TargetWriter#GATHER}: a run longer than that, then a gap,
     * a chunk written before the one it follows, and the tail.
     */
    @Test
    void gatheredRunsLandWholeAcrossTheirLimitAndTheirBreaks() throws Exception {
        int chunks = TargetWriter.GATHER / CHUNK * 2 + 5;
        long size = (long) chunks * CHUNK + 1000;
        byte[] expected = new byte[(int) size];
        new Random(9).nextBytes(expected);
        int gap = chunks - 4;
        Arrays.fill(expected, gap * CHUNK, (gap + 1) * CHUNK, (byte) 0);
        Path image = dir.resolve("image");
        java.util.List<Integer> order = new java.util.ArrayList<>();
        for (int c = 0; c <= chunks; c++) {
            if (c != gap && c != gap + 2) {
                order.add(c);
            }
        }
        order.add(gap + 2);
        try (TargetWriter out = TargetWriter.createFile(image, size, CHUNK)) {
            for (int c : order) {
                long offset = (long) c * CHUNK;
                int len = (int) Math.min(CHUNK, size - offset);
                out.write(Arrays.copyOfRange(expected, (int) offset, (int) offset + len), len, offset);
            }
            out.sync();
        }
        assertArrayEquals(expected, Files.readAllBytes(image));
    }

    @Test
    void anExistingFileIsNeverOpened() throws IOException {
        Path image = dir.resolve("image");
        Files.writeString(image, "someone's data");
        assertThrows(FileAlreadyExistsException.class, () -> TargetWriter.createFile(image, SIZE, CHUNK));
        assertEquals("someone's data", Files.readString(image));
    }

    /** Writes chunks 0, 2..6 (1 stays a hole) and the tail from four threads; returns what the file must hold. */
    private static byte[] writeImage(Path image) throws Exception {
        byte[] expected = new byte[(int) SIZE];
        new Random(7).nextBytes(expected);
        Arrays.fill(expected, CHUNK, 2 * CHUNK, (byte) 0);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (TargetWriter out = TargetWriter.createFile(image, SIZE, CHUNK)) {
            Future<?>[] done = new Future<?>[8];
            for (int c = 0; c < 8; c++) {
                if (c == 1) {
                    continue;
                }
                long offset = (long) c * CHUNK;
                int len = (int) Math.min(CHUNK, SIZE - offset);
                byte[] piece = Arrays.copyOfRange(expected, (int) offset, (int) offset + len);
                done[c] = pool.submit(() -> {
                    out.write(piece, len, offset);
                    return null;
                });
            }
            for (Future<?> f : done) {
                if (f != null) {
                    f.get();
                }
            }
            out.sync();
        } finally {
            pool.shutdown();
        }
        assertEquals(SIZE, Files.size(image));
        return expected;
    }
}
