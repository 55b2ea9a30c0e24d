package org.blksnap.api.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Compiles a C program against the project's UAPI headers with gcc and
 * checks that every size, offset, ioctl number and constant it prints equals
 * the Java side. gcc missing is a failure, not a skip.
 */
class AbiHeaderTest {
    private static final Map<String, Long> STRUCT_SIZES = new TreeMap<>();
    private static final Map<String, long[]> FIELDS = new TreeMap<>();
    private static final Map<String, Long> IOCTLS = new TreeMap<>();
    private static final Map<String, Long> CONSTS = new HashMap<>();
    private static final Map<String, String> STRINGS = new HashMap<>();

    @BeforeAll
    static void compileAndRun() throws IOException, InterruptedException {
        Path uapi = Path.of(System.getProperty("blksnap.uapi.dir", "../module/include/uapi"));
        Path source = Path.of(System.getProperty("blksnap.test.c", "src/test/c/abi_dump.c"));
        Path work = Path.of(System.getProperty("blksnap.test.work", "target/abi"));
        assertTrue(Files.isRegularFile(uapi.resolve("linux/blksnap.h")), "UAPI header not found under " + uapi);
        Files.createDirectories(work);
        Path exe = work.resolve("abi_dump");
        run(List.of("gcc", "-Wall", "-Wextra", "-Werror", "-I", uapi.toString(), "-o", exe.toString(),
                source.toString()));
        for (String line : run(List.of(exe.toString())).split("\n")) {
            String[] f = line.split(" ");
            switch (f[0]) {
                case "struct" -> STRUCT_SIZES.put(f[1], Long.parseLong(f[2]));
                case "field" -> FIELDS.put(f[1] + "." + f[2], new long[] {Long.parseLong(f[3]), Long.parseLong(f[4])});
                case "ioctl" -> IOCTLS.put(f[1], Long.parseUnsignedLong(f[2]));
                case "const" -> CONSTS.put(f[1], Long.parseLong(f[2]));
                case "string" -> STRINGS.put(f[1], f[2]);
                default -> throw new AssertionError("unexpected line from abi_dump: " + line);
            }
        }
    }

    private static String run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + cmd);
        assertEquals(0, p.exitValue(), () -> cmd + " failed:\n" + out);
        return out;
    }

    @Test
    void everyStructHasTheHeadersSize() {
        Map<String, Long> java = new TreeMap<>();
        for (StructLayout s : Abi.ALL) {
            java.put(s.name().orElseThrow(), s.byteSize());
        }
        assertEquals(STRUCT_SIZES, java);
    }

    @Test
    void everyFieldHasTheHeadersOffsetAndSize() {
        Map<String, List<Long>> java = new TreeMap<>();
        for (StructLayout s : Abi.ALL) {
            for (MemoryLayout m : s.memberLayouts()) {
                if (m.name().isPresent()) {
                    String key = s.name().orElseThrow() + "." + m.name().get();
                    java.put(key, List.of(Abi.offset(s, m.name().get()), m.byteSize()));
                }
            }
        }
        Map<String, List<Long>> c = new TreeMap<>();
        FIELDS.forEach((k, v) -> c.put(k, List.of(v[0], v[1])));
        assertEquals(c, java);
    }

    @Test
    void everyIoctlNumberMatches() {
        assertEquals(IOCTLS, new TreeMap<>(Ioctl.all()));
    }

    @Test
    void ioctlNumbersAreTheUpstreamOnes() {
        // The values the upstream interface defines, written out so that a
        // change to the header itself is caught too.
        assertEquals(0xc030128eL, Ioctl.BLKFILTER_ATTACH);
        assertEquals(0xc020128fL, Ioctl.BLKFILTER_DETACH);
        assertEquals(0xc0301290L, Ioctl.BLKFILTER_CTL);
        assertEquals(0x80085600L, Ioctl.IOCTL_BLKSNAP_VERSION);
        assertEquals(0xc0205601L, Ioctl.IOCTL_BLKSNAP_SNAPSHOT_CREATE);
        assertEquals(0x40105602L, Ioctl.IOCTL_BLKSNAP_SNAPSHOT_DESTROY);
        assertEquals(0x40105603L, Ioctl.IOCTL_BLKSNAP_SNAPSHOT_TAKE);
        assertEquals(0x80105604L, Ioctl.IOCTL_BLKSNAP_SNAPSHOT_COLLECT);
        assertEquals(0x90005605L, Ioctl.IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT);
    }

    @Test
    void constantsMatch() {
        assertEquals(CONSTS.get("BLKFILTER_NAME_LENGTH"), (long) Abi.BLKFILTER_NAME_LENGTH);
        assertEquals(CONSTS.get("IMAGE_DISK_NAME_LEN"), (long) Abi.IMAGE_DISK_NAME_LEN);
        assertEquals(CONSTS.get("blkfilter_ctl_blksnap_cbtinfo"), (long) Abi.CTL_CBTINFO);
        assertEquals(CONSTS.get("blkfilter_ctl_blksnap_cbtmap"), (long) Abi.CTL_CBTMAP);
        assertEquals(CONSTS.get("blkfilter_ctl_blksnap_cbtdirty"), (long) Abi.CTL_CBTDIRTY);
        assertEquals(CONSTS.get("blkfilter_ctl_blksnap_snapshotadd"), (long) Abi.CTL_SNAPSHOTADD);
        assertEquals(CONSTS.get("blkfilter_ctl_blksnap_snapshotinfo"), (long) Abi.CTL_SNAPSHOTINFO);
        assertEquals(CONSTS.get("blksnap_event_code_corrupted"), (long) Abi.EVENT_CODE_CORRUPTED);
        assertEquals(CONSTS.get("blksnap_event_code_no_space"), (long) Abi.EVENT_CODE_NO_SPACE);
        assertEquals(CONSTS.get("BLKSNAP_IOCTL_MAGIC"), (long) Ioctl.BLKSNAP_TYPE);
        assertEquals(STRINGS.get("BLKSNAP_FILTER_NAME"), Abi.FILTER_NAME);
        assertNotNull(STRINGS.get("BLKSNAP_CTL"));
        assertEquals("/dev/" + STRINGS.get("BLKSNAP_CTL"), Abi.CONTROL_DEVICE);
    }
}
