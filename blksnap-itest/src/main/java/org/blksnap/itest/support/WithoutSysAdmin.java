package org.blksnap.itest.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a probe class in a child JVM that lost CAP_SYS_ADMIN (setpriv), as
 * root otherwise, so a test sees what the module answers an unprivileged
 * caller. The probe prints "name value" lines; "capeff" must be among them.
 */
public final class WithoutSysAdmin {
    private static final long CAP_SYS_ADMIN = 1L << 21;

    private WithoutSysAdmin() {
    }

    /** What the probe printed, as name -> value, with its raw output for messages. */
    public record Report(Map<String, String> values, String output) {
        public String get(String name) {
            return values.get(name);
        }
    }

    public static Report run(Class<?> probe, String... args) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of("setpriv", "--bounding-set=-sys_admin",
                "--inh-caps=-sys_admin", "--", java, "--enable-native-access=ALL-UNNAMED"));
        // The -XX options this JVM got (scripts/guest-tests: no C2, serial GC):
        // under TCG they halve a JVM's start, and the probe is a JVM start.
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream().filter(a -> a.startsWith("-XX:"))
                .forEach(command::add);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), probe.getName()));
        command.addAll(List.of(args));
        Shell.Result r = Shell.run(command.toArray(String[]::new));
        assertTrue(r.ok(), r.output());
        Map<String, String> seen = new HashMap<>();
        for (String line : r.output().split("\n")) {
            String[] w = line.strip().split(" ");
            if (w.length == 2) {
                seen.put(w[0], w[1]);
            }
        }
        long capEff = Long.parseLong(seen.getOrDefault("capeff", "-1"), 16);
        assertEquals(0, capEff & CAP_SYS_ADMIN, "the probe still has CAP_SYS_ADMIN: " + r.output());
        return new Report(seen, r.output());
    }
}
