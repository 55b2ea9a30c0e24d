package org.blksnap.itest.report;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs test classes again and again in one JVM ({@code scripts/guest-tests
 * --repeat N}), to tell an intermittent failure from a fixed one without a
 * guest boot and a JVM start per run. One line per round, each failure
 * with its message; the exit status is 1 if any round failed or ran no
 * test. Per-class reports are written as usual and hold the last round.
 */
public final class Repeat {
    private Repeat() {
    }

    /** @param args the number of rounds, then fully qualified class names */
    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: Repeat ROUNDS CLASS...");
            System.exit(2);
        }
        int rounds = Integer.parseInt(args[0]);
        List<String> classes = List.of(args).subList(1, args.length);
        System.exit(run(rounds, classes, System.out) ? 0 : 1);
    }

    static boolean run(int rounds, List<String> classes, PrintStream out) {
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(classes.stream().map(c -> selectClass(c)).toList()).build();
        Launcher launcher = LauncherFactory.create();
        List<String> failed = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            SummaryGeneratingListener summary = new SummaryGeneratingListener();
            long start = System.nanoTime();
            launcher.execute(request, summary);
            TestExecutionSummary s = summary.getSummary();
            long ms = (System.nanoTime() - start) / 1_000_000;
            boolean green = green(s);
            out.printf("repeat: round %d of %d: %d tests, %d succeeded, %d failed, %d ms%n", round, rounds,
                    s.getTestsFoundCount(), s.getTestsSucceededCount(), s.getTotalFailureCount(), ms);
            for (TestExecutionSummary.Failure f : s.getFailures()) {
                out.println("repeat:   " + f.getTestIdentifier().getDisplayName() + ": " + f.getException());
                f.getException().printStackTrace(out);
            }
            if (!green) {
                failed.add(Integer.toString(round));
            }
        }
        out.printf("repeat: %d of %d rounds green%s%n", rounds - failed.size(), rounds,
                failed.isEmpty() ? "" : "; failed: " + String.join(", ", failed));
        return failed.isEmpty();
    }

    /** Whether a run found tests and every one of them succeeded (none failed, skipped or aborted). */
    static boolean green(TestExecutionSummary s) {
        return s.getTestsFoundCount() > 0 && s.getTotalFailureCount() == 0
                && s.getTestsSucceededCount() == s.getTestsFoundCount();
    }
}
