package org.blksnap.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** FIEMAP on a file of the build directory (a block-device backed filesystem on this host). */
class FileExtentsTest {
    private static final Path DIR = Path.of(System.getProperty("blksnap.test.work", "target/abi")).getParent();

    @Test
    void mapsEverySectorOfAWrittenFile() throws IOException {
        Path file = Files.createTempFile(DIR, "fiemap", ".bin");
        try {
            byte[] data = new byte[3 * 1024 * 1024 + 4096];
            new Random(1).nextBytes(data);
            Files.write(file, data);
            FileExtents fe = FileExtents.of(file);
            long sectors = fe.ranges().stream().mapToLong(SectorRange::count).sum();
            assertEquals(data.length / SectorRange.SECTOR_SIZE, sectors, fe.ranges()::toString);
            assertFalse(fe.ranges().isEmpty());
            assertTrue(fe.device().toString().startsWith("/dev/"), fe.device()::toString);
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void emptyFileHasNoRanges() throws IOException {
        Path file = Files.createTempFile(DIR, "fiemap", ".empty");
        try {
            assertTrue(FileExtents.of(file).ranges().isEmpty());
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void directoryIsRefused() {
        BlkSnapException e = assertThrows(BlkSnapException.class, () -> FileExtents.of(DIR));
        assertTrue(e.getMessage().endsWith("is not a regular file"), e.getMessage());
    }
}
