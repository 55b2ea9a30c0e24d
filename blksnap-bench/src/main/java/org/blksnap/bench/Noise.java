package org.blksnap.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How noisy a run was: the bare 4 KiB random write job runs several times
 * in one boot (scenarios 1, 2 and 3), so its spread is the noise floor
 * every ratio of the run must be read against.
 */
final class Noise {
    private Noise() {
    }

    /** @return a sentence on the spread, or "" when the job ran fewer than twice */
    static String describe(Path runDir) throws IOException {
        List<Double> iops = new ArrayList<>();
        try (var files = Files.list(runDir)) {
            for (Path f : files.filter(f -> f.getFileName().toString().matches("s\\d-bare-randwrite-4k.*\\.json"))
                    .sorted().toList()) {
                iops.add(FioResult.parse(f, false).iops());
            }
        }
        if (iops.size() < 2) {
            return "";
        }
        double min = iops.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        double max = iops.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        return String.format(Locale.ROOT, "Noise floor of this run: the same bare job (4 KiB random write) ran %d "
                + "times in this boot and gave %s to %s IOPS (max/min %.2f); a ratio is only meaningful where "
                + "it differs from 1 by more than that.", iops.size(), Format.number(min), Format.number(max),
                max / min);
    }

    /** @return the host's load averages now, for the page ("" if unknown) */
    static String hostLoad() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split("\\s+");
            return "Host load average when the report was made (1, 5, 15 min): " + f[0] + ", " + f[1] + ", " + f[2]
                    + " on " + Runtime.getRuntime().availableProcessors() + " CPUs.";
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
