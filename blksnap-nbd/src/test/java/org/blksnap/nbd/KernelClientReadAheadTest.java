package org.blksnap.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The read-ahead an attached device gets, on a directory laid out as the
 * kernel's /sys/block/nbdN: raised from the kernel's 128 KiB, never lowered,
 * and a missing or odd file does not stop the attach.
 */
class KernelClientReadAheadTest {
    @TempDir
    Path nbd;
    Path file;

    @BeforeEach
    void queue() throws Exception {
        Files.createDirectories(nbd.resolve("queue"));
        file = nbd.resolve("queue/read_ahead_kb");
    }

    @Test
    void theKernelsDefaultIsRaised() throws Exception {
        Files.writeString(file, "128\n");
        assertEquals(KernelClient.READ_AHEAD_KB, KernelClient.setReadAhead(nbd, KernelClient.READ_AHEAD_KB));
        assertEquals(Integer.toString(KernelClient.READ_AHEAD_KB), Files.readString(file).strip());
    }

    @Test
    void moreThanThatIsKept() throws Exception {
        Files.writeString(file, "8192\n");
        assertEquals(8192, KernelClient.setReadAhead(nbd, KernelClient.READ_AHEAD_KB));
        assertEquals("8192", Files.readString(file).strip());
    }

    @Test
    void noFileOrNoNumberChangesNothing() throws Exception {
        assertEquals(-1, KernelClient.setReadAhead(nbd, KernelClient.READ_AHEAD_KB));
        assertFalse(Files.exists(file));
        Files.writeString(file, "odd\n");
        assertEquals(-1, KernelClient.setReadAhead(nbd, KernelClient.READ_AHEAD_KB));
        assertEquals("odd", Files.readString(file).strip());
    }
}
