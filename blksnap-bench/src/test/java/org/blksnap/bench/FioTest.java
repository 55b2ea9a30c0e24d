package org.blksnap.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** fio's JSON as fio 3.33 writes it (files captured from real runs), and the job options. */
class FioTest {
    private static Path resource(String name) throws URISyntaxException {
        return Path.of(FioTest.class.getResource("/" + name).toURI());
    }

    @Test
    void parsesWriteFigures() throws Exception {
        FioResult r = FioResult.parse(resource("fio-strided-write.json"), false);
        assertEquals(16, r.ios());
        assertEquals(5333.333333, r.iops(), 1e-6);
        assertEquals(21845333, r.bytesPerSecond(), 1);
        assertEquals("fio-strided-write.json", r.file());
        assertEquals(MAX_CLAT_NS / 1000.0, r.maxLatencyUs(), 1e-6);
    }

    /** clat_ns.max of the write direction of fio-strided-write.json. */
    private static final double MAX_CLAT_NS = 1669981;

    /** fio puts its warnings in front of the JSON in the output file. */
    @Test
    void warningsBeforeTheJsonAreSkipped(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path f = dir.resolve("warned.json");
        java.nio.file.Files.writeString(f, "fio: Any use of blockalign= turns off randommap\n"
                + java.nio.file.Files.readString(resource("fio-strided-write.json")));
        assertEquals(16, FioResult.parse(f, false).ios());
    }

    /** A mixed job's figures add both directions; its longest latency is the longer of the two. */
    @Test
    void aMixedJobAddsBothDirections(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path f = dir.resolve("mixed.json");
        java.nio.file.Files.writeString(f, """
                {"jobs": [{"error": 0,
                  "read": {"total_ios": 70, "iops": 700.0, "bw_bytes": 2867200,
                           "clat_ns": {"max": 5000, "percentile": {"99.000000": 4000}}},
                  "write": {"total_ios": 30, "iops": 300.0, "bw_bytes": 1228800,
                            "clat_ns": {"max": 9000, "percentile": {"99.000000": 8000}}}}]}
                """);
        FioResult r = FioResult.parse(f, java.util.List.of("read", "write"));
        assertEquals(100, r.ios());
        assertEquals(1000.0, r.iops(), 1e-9);
        assertEquals(4096000, r.bytesPerSecond(), 1e-9);
        assertEquals(9.0, r.maxLatencyUs(), 1e-9);
        assertEquals(4.0, r.p99LatencyUs(), 1e-9);
        IOException e = assertThrows(IOException.class,
                () -> FioResult.parse(resource("fio-strided-write.json"), java.util.List.of("write", "read")));
        assertTrue(e.getMessage().contains("did no read"), e.getMessage());
    }

    @Test
    void parsesReadFigures() throws Exception {
        FioResult r = FioResult.parse(resource("fio-randread.json"), true);
        assertTrue(r.ios() > 0);
        assertEquals(r.bytesPerSecond() / 4096, r.iops(), r.iops() * 0.05);
    }

    @Test
    void aJobThatDidNoIoInTheAskedDirectionIsAnError() {
        IOException e = assertThrows(IOException.class,
                () -> FioResult.parse(resource("fio-strided-write.json"), true));
        assertTrue(e.getMessage().contains("did no read I/O"), e.getMessage());
    }

    @Test
    void somethingElseThanFioJsonIsAnError(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("x.json"), "fio: failed to open /dev/vda");
        IOException e = assertThrows(IOException.class, () -> FioResult.parse(f, false));
        assertTrue(e.getMessage().contains("is not fio JSON"), e.getMessage());
    }

    @Test
    void stridedJobWritesOneBlockPerChunkOnce() {
        Profile p = new Profile("t", 1L << 20, 1, 0, 4, 1, 1);
        FioJob j = FioJob.strided("first", Path.of("/dev/vda"), 4096, 256 << 10, p);
        assertTrue(j.arguments().contains("--rw=write:258048"), j.arguments().toString());
        // Four chunks in 1 MiB: four 4 KiB writes, then stop rather than wrap around.
        assertTrue(j.arguments().contains("--io_size=16384"), j.arguments().toString());
        assertTrue(j.arguments().contains("--direct=1"));
    }

    @Test
    void timedJobIsTimeBased() {
        Profile p = new Profile("t", 1L << 20, 7, 2, 4, 1, 1);
        FioJob j = FioJob.timed("rw", Path.of("/dev/vda"), "randwrite", 4096, p);
        assertTrue(j.arguments().containsAll(java.util.List.of("--time_based", "--runtime=7", "--ramp_time=2")));
        assertEquals("/dev/dm-0", j.on("rw2", Path.of("/dev/dm-0")).device().toString());
    }

    @Test
    void jobNamesMustBeFileNames() {
        Profile p = Profile.QUICK;
        assertThrows(IllegalArgumentException.class,
                () -> FioJob.timed("../x", Path.of("/dev/vda"), "randread", 4096, p));
    }
}
