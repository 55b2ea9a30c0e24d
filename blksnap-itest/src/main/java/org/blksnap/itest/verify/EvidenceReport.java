package org.blksnap.itest.verify;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.blksnap.itest.support.Shell;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestPlan;

/**
 * Prints the verification summary when the test plan ends (registered as a
 * JUnit Platform listener through META-INF/services), and writes it to
 * verification-summary.txt in the reports directory (system property
 * blksnap.reports, set by scripts/guest-tests). Runs that exercised no
 * verification test print nothing.
 */
public final class EvidenceReport implements TestExecutionListener {
    /** The same findings vm/run fails a run on; counted here so the summary shows them. */
    private static final Pattern FINDING = Pattern.compile(
            "WARNING:|BUG:|Oops|general protection|soft lockup|hard LOCKUP|hung_task|blocked for more than");

    /**
     * System property that makes each test plan's end print nothing: set by
     * a runner that executes one plan per class
     * ({@link org.blksnap.itest.report.SharedQueue}) and calls
     * {@link #write()} once at its end, so the summary is printed once.
     */
    public static final String DEFERRED = "blksnap.evidence.deferred";

    @Override
    public void testPlanExecutionFinished(TestPlan plan) {
        if (!Boolean.getBoolean(DEFERRED)) {
            write();
        }
    }

    /** Prints the summary of every test run so far and writes it to the reports directory. */
    public static void write() {
        Evidence.Summary s = Evidence.summary();
        if (s.isEmpty()) {
            return;
        }
        String text = render(s, kernelLogFindings());
        System.out.print(text);
        Path dir = Path.of(System.getProperty("blksnap.reports", "build/reports/guest"));
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("verification-summary.txt"), text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String render(Evidence.Summary s, long findings) {
        StringBuilder b = new StringBuilder("\n== verification summary\n");
        for (Map.Entry<Evidence.Tally, Long> e : s.tallies().entrySet()) {
            b.append(String.format("  %-22s %,d%n", e.getKey().label(), e.getValue()));
        }
        long injected = s.faults().values().stream().mapToLong(Long::longValue).sum();
        b.append(String.format("  %-22s %,d%n", "faults injected", injected));
        s.faults().forEach((kind, n) -> b.append(String.format("    %-20s %,d%n", kind, n)));
        b.append(String.format("  %-22s %s%n", "kernel-log findings", findings < 0 ? "unknown" : findings));
        return b.toString();
    }

    /** Lines of the guest's kernel log vm/run would fail on; -1 if dmesg cannot be read. */
    private static long kernelLogFindings() {
        try {
            Shell.Result r = Shell.run("dmesg");
            if (!r.ok()) {
                return -1;
            }
            List<String> lines = r.output().lines().toList();
            return lines.stream().filter(l -> FINDING.matcher(l).find()).count();
        } catch (IOException e) {
            return -1;
        }
    }
}
