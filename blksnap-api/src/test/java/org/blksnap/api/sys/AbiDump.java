package org.blksnap.api.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * What gcc makes of the project's UAPI headers: src/test/c/abi_dump.c
 * compiled against module/include/uapi and run, its lines parsed. gcc
 * missing or failing is a test failure, never a skip.
 *
 * @param structs struct name to size
 * @param fields "struct.field" to [offset, size]
 * @param ioctls ioctl macro to number
 * @param consts constant or enumerator to value
 * @param strings string macro to value
 */
record AbiDump(Map<String, Long> structs, Map<String, List<Long>> fields, Map<String, Long> ioctls,
        Map<String, Long> consts, Map<String, String> strings) {

    static AbiDump compileAndRun() throws IOException, InterruptedException {
        Path uapi = Path.of(System.getProperty("blksnap.uapi.dir", "../module/include/uapi"));
        Path source = Path.of(System.getProperty("blksnap.test.c", "src/test/c/abi_dump.c"));
        Path work = Path.of(System.getProperty("blksnap.test.work", "target/abi"));
        assertTrue(Files.isRegularFile(uapi.resolve("linux/blksnap.h")), "UAPI header not found under " + uapi);
        Files.createDirectories(work);
        Path exe = work.resolve("abi_dump");
        run(List.of("gcc", "-Wall", "-Wextra", "-Werror", "-I", uapi.toString(), "-o", exe.toString(),
                source.toString()));
        AbiDump dump = new AbiDump(new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new HashMap<>(),
                new HashMap<>());
        for (String line : run(List.of(exe.toString())).split("\n")) {
            String[] f = line.split(" ");
            switch (f[0]) {
                case "struct" -> dump.structs.put(f[1], Long.parseLong(f[2]));
                case "field" -> dump.fields.put(f[1] + "." + f[2], List.of(Long.parseLong(f[3]), Long.parseLong(f[4])));
                case "ioctl" -> dump.ioctls.put(f[1], Long.parseUnsignedLong(f[2]));
                case "const" -> dump.consts.put(f[1], Long.parseLong(f[2]));
                case "string" -> dump.strings.put(f[1], f[2]);
                default -> throw new AssertionError("unexpected line from abi_dump: " + line);
            }
        }
        return dump;
    }

    private static String run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + cmd);
        assertEquals(0, p.exitValue(), () -> cmd + " failed:\n" + out);
        return out;
    }
}
