package org.blksnap.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;

/** What the tests ask of the page cache and of a directory's file system. */
public final class PageCache {
    private PageCache() {
    }

    /**
     * @param dir a directory
     * @return whether files made in it can be opened with O_DIRECT (tmpfs before Linux 6.6 cannot)
     * @throws IOException if the probe file cannot be removed
     */
    public static boolean takesODirect(Path dir) throws IOException {
        Path probe = dir.resolve("o-direct-probe");
        SysResult r = Linux.open(probe.toString(), Linux.O_WRONLY | Linux.O_CREAT | Linux.O_DIRECT
                | Linux.O_CLOEXEC, 0600);
        if (r.ok()) {
            Linux.close(r.intValue());
        }
        Files.deleteIfExists(probe);
        return r.ok();
    }

    /**
     * @param file a file
     * @return bytes of it in the page cache, as fincore(1) counts them
     * @throws IOException if fincore cannot be run
     * @throws InterruptedException if interrupted while it runs
     */
    public static long residentBytes(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("fincore", "--bytes", "--noheadings", "--output", "RES", file.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, p.waitFor(), "fincore: " + out);
        return Long.parseLong(out);
    }
}
