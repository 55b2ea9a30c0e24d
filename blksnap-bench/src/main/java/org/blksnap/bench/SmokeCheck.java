package org.blksnap.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The smoke verdict of a quick run for make test: every scenario ran and
 * produced figures that make sense; written as one JUnit test case so the
 * test summary counts it.
 */
final class SmokeCheck {
    private static final int SCENARIOS = Scenarios.all().size();

    private SmokeCheck() {
    }

    /** @return what is wrong with a run's results; empty when nothing is */
    static List<String> problems(Results r, Path runDir) {
        List<String> p = new ArrayList<>();
        Set<Integer> seen = new TreeSet<>();
        for (Measurement m : r.measurements()) {
            seen.add(m.scenario());
            switch (m.verdict()) {
                case FAILED -> p.add("scenario " + m.scenario() + " (" + m.name() + ") failed: " + m.note());
                case NOT_AVAILABLE -> { }
                default -> {
                    if (!(m.value() > 0) || Double.isInfinite(m.value())) {
                        p.add("scenario " + m.scenario() + ": " + m.name() + " has no positive figure: " + m.value());
                    }
                    if (m.ratio() != null && !(m.ratio() > 0 && Double.isFinite(m.ratio()))) {
                        p.add("scenario " + m.scenario() + ": " + m.name() + " has a bad ratio: " + m.ratio());
                    }
                }
            }
            for (String f : m.fioFiles()) {
                if (!Files.isRegularFile(runDir.resolve(f))) {
                    p.add("scenario " + m.scenario() + ": raw fio output " + f + " is missing");
                }
            }
        }
        for (int i = 1; i <= SCENARIOS; i++) {
            if (!seen.contains(i)) {
                p.add("scenario " + i + " reported nothing");
            }
        }
        return p;
    }

    /** Writes one test case, failed when there are problems. */
    static void writeJUnit(Path xml, List<String> problems, double seconds) throws IOException {
        Files.createDirectories(xml.toAbsolutePath().getParent());
        String failure = problems.isEmpty() ? "" : "    <failure message=\"" + escape(problems.getFirst()) + "\">"
                + escape(String.join("\n", problems)) + "</failure>\n";
        String time = String.format(Locale.ROOT, "%.1f", seconds);
        Files.writeString(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<testsuite name=\"blksnap-bench smoke\" tests=\"1\" failures=\"" + (problems.isEmpty() ? 0 : 1)
                + "\" errors=\"0\" skipped=\"0\" time=\"" + time + "\">\n"
                + "  <testcase classname=\"org.blksnap.bench.Smoke\" name=\"make bench --quick: every scenario runs"
                + "\" time=\"" + time + "\">\n" + failure + "  </testcase>\n</testsuite>\n");
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
