package org.blksnap.itest.report;

import static org.junit.platform.engine.discovery.ClassNameFilter.includeClassNamePatterns;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClasspathRoots;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.blksnap.itest.verify.EvidenceReport;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs the in-guest suite in several guests at once that share one claim
 * directory on the build share ({@code scripts/guest-tests --share DIR}).
 *
 * <p>Why: the suite has to run under single-threaded TCG (one host thread
 * per guest), because multi-threaded TCG executes stale or torn
 * translations of code that another vCPU has just patched, which kills
 * HotSpot's child JVMs at the entry of a method made not entrant (README,
 * "Multi-threaded TCG"). Two single-threaded guests keep both host cores
 * busy, as one multi-threaded guest did.
 *
 * <p>Each guest walks the same list of classes and runs a class only if it
 * creates {@code DIR/<class>} first: {@code mkdir} on the host file system,
 * through 9p, is atomic, so every class runs exactly once, and a guest
 * that dies leaves the classes it had not claimed to the others. The list
 * is the long classes first (the order given on the command line), then
 * every other {@code *IT} class of the class path by name, so that the
 * guests finish at about the same time.
 *
 * <p>Exit status 0 if every test of the classes this guest ran passed, 1 if
 * one failed, 2 for a usage error. Per-class reports are written as usual
 * ({@link ClassReports}).
 */
public final class SharedQueue {
    private SharedQueue() {
    }

    /** @param args the claim directory, the class path root to scan, then classes to run first */
    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: SharedQueue CLAIM-DIR CLASSPATH-ROOT [FIRST-CLASS...]");
            System.exit(2);
        }
        Path claims = Path.of(args[0]);
        if (!Files.isDirectory(claims)) {
            System.err.println("guest-tests: the claim directory " + claims + " does not exist");
            System.exit(2);
        }
        Launcher launcher = LauncherFactory.create();
        List<String> order = order(discover(launcher, Path.of(args[1])), List.of(args).subList(2, args.length));
        String guest = System.getenv().getOrDefault("BLKSNAP_GUEST_NAME", "guest");
        System.setProperty(EvidenceReport.DEFERRED, "true");
        boolean green = run(launcher, claims, order, guest, System.out);
        EvidenceReport.write();
        System.exit(green ? 0 : 1);
    }

    /** The {@code *IT} classes under {@code root}, by name. */
    static Set<String> discover(Launcher launcher, Path root) {
        TestPlan plan = launcher.discover(LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClasspathRoots(Set.of(root)))
                .filters(includeClassNamePatterns("^.*IT$")).build());
        Set<String> classes = new TreeSet<>();
        for (TestIdentifier engine : plan.getRoots()) {
            for (TestIdentifier t : plan.getChildren(engine)) {
                t.getSource().filter(ClassSource.class::isInstance)
                        .ifPresent(s -> classes.add(((ClassSource) s).getClassName()));
            }
        }
        return classes;
    }

    /** {@code first}, where discovered, then the rest of {@code discovered}. */
    static List<String> order(Set<String> discovered, List<String> first) {
        Set<String> order = new LinkedHashSet<>();
        first.stream().filter(discovered::contains).forEach(order::add);
        order.addAll(new TreeSet<>(discovered));
        return List.copyOf(order);
    }

    /** Whether {@code claims/name} was created here, so this guest runs the class. */
    static boolean claim(Path claims, String name) throws IOException {
        try {
            Files.createDirectory(claims.resolve(name));
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        }
    }

    static boolean run(Launcher launcher, Path claims, List<String> order, String guest, PrintStream out)
            throws IOException {
        if (order.isEmpty()) {
            out.println(guest + ": no test class found");
            return false;
        }
        List<String> failed = new ArrayList<>();
        int ran = 0;
        for (String c : order) {
            if (!claim(claims, c)) {
                continue;
            }
            ran++;
            SummaryGeneratingListener summary = new SummaryGeneratingListener();
            long start = System.nanoTime();
            launcher.execute(LauncherDiscoveryRequestBuilder.request().selectors(selectClass(c)).build(),
                    summary, new Lines(guest, out));
            TestExecutionSummary s = summary.getSummary();
            long seconds = (System.nanoTime() - start) / 1_000_000_000L;
            boolean green = Repeat.green(s);
            out.printf("%s: %s: %d tests, %d passed, %d failed, %d skipped, %d s%n", guest, c,
                    s.getTestsFoundCount(), s.getTestsSucceededCount(), s.getTotalFailureCount(),
                    s.getTestsSkippedCount() + s.getTestsAbortedCount(), seconds);
            if (!green) {
                failed.add(c);
            }
        }
        out.printf("%s: ran %d of %d classes (the others ran elsewhere)%s%n", guest, ran, order.size(),
                failed.isEmpty() ? "; all passed" : "; failed: " + String.join(", ", failed));
        return failed.isEmpty();
    }

    /** One line per finished test, and a failure's stack trace. */
    private record Lines(String guest, PrintStream out) implements TestExecutionListener {
        @Override
        public void executionSkipped(TestIdentifier id, String reason) {
            if (id.isTest()) {
                out.printf("%s:   skipped %s: %s%n", guest, id.getDisplayName(), reason);
            }
        }

        @Override
        public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            if (!id.isTest() && result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) {
                return;
            }
            out.printf("%s:   %s %s%n", guest, result.getStatus(), id.getDisplayName());
            result.getThrowable().ifPresent(t -> t.printStackTrace(out));
        }
    }
}
