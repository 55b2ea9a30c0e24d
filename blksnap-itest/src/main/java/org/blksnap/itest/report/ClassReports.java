package org.blksnap.itest.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * Writes one JUnit XML report per test class as soon as that class ends, so
 * that a guest killed at its timeout keeps the reports of every class that
 * finished (the console launcher writes its report only when the whole run
 * ends). Registered through META-INF/services; it does nothing unless the
 * system property {@code blksnap.reports} names the directory
 * (scripts/guest-tests sets it), so host unit-test runs are not affected.
 *
 * <p>While a class runs, its name is kept in {@code .running} in that
 * directory: scripts/guest-run names it when the guest is stopped.
 *
 * <p>A "class" is a top-level container of the test plan (for Jupiter, a
 * test class with its nested classes and parameterized tests).
 */
public final class ClassReports implements TestExecutionListener {
    static final String RUNNING = ".running";

    private final Path dir;
    private TestPlan plan;
    private final Map<String, ClassRun> open = new HashMap<>();

    public ClassReports() {
        this(Optional.ofNullable(System.getProperty("blksnap.reports")).map(Path::of).orElse(null));
    }

    /** @param dir where the reports go; null: write nothing */
    public ClassReports(Path dir) {
        this.dir = dir;
    }

    @Override
    public synchronized void testPlanExecutionStarted(TestPlan testPlan) {
        plan = testPlan;
        if (dir != null) {
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Override
    public synchronized void executionStarted(TestIdentifier id) {
        if (dir == null) {
            return;
        }
        if (isClass(id)) {
            open.put(id.getUniqueId(), new ClassRun(className(id)));
            write(dir.resolve(RUNNING), className(id) + "\n");
        } else {
            classOf(id).ifPresent(c -> c.started(id));
        }
    }

    @Override
    public synchronized void executionSkipped(TestIdentifier id, String reason) {
        if (dir == null) {
            return;
        }
        if (isClass(id)) {
            ClassRun c = new ClassRun(className(id));
            c.settleDescendants(plan, id, new Outcome.Skipped(reason));
            report(c);
        } else {
            classOf(id).ifPresent(c -> {
                Outcome skipped = new Outcome.Skipped(reason);
                if (id.isTest()) {
                    c.finished(id, caseClass(id), skipped);
                } else {
                    c.settleDescendants(plan, id, skipped);
                }
            });
        }
    }

    @Override
    public synchronized void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (dir == null) {
            return;
        }
        Optional<ClassRun> owner = isClass(id) ? Optional.ofNullable(open.get(id.getUniqueId())) : classOf(id);
        owner.ifPresent(c -> {
            Outcome outcome = Outcome.of(result);
            if (id.isTest()) {
                c.finished(id, caseClass(id), outcome);
            } else if (!(outcome instanceof Outcome.Passed)) {
                // A failed @BeforeAll or parameter source: the tests that never
                // ran take its outcome; a failure nothing took (say, in
                // @AfterAll) becomes a case of its own so it is counted.
                if (!c.settleDescendants(plan, id, outcome) && !(outcome instanceof Outcome.Skipped)) {
                    c.finished(id, caseClass(id), outcome);
                }
            }
            if (isClass(id)) {
                open.remove(id.getUniqueId());
                report(c);
                try {
                    Files.deleteIfExists(dir.resolve(RUNNING));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        });
    }

    private void report(ClassRun c) {
        String file = "TEST-" + c.name().replaceAll("[^A-Za-z0-9._$-]", "_") + ".xml";
        write(dir.resolve(file), JunitXml.render(c.name(), c.startedAt(), c.seconds(), c.cases()));
    }

    /** Written beside and renamed: a run killed meanwhile leaves no half file. */
    private static void write(Path target, String text) {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, text);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private boolean isClass(TestIdentifier id) {
        return id.getParentIdObject().map(p -> plan.getTestIdentifier(p).getParentIdObject().isEmpty()).orElse(false);
    }

    private Optional<ClassRun> classOf(TestIdentifier id) {
        for (Optional<TestIdentifier> a = Optional.of(id); a.isPresent(); a = plan.getParent(a.get())) {
            ClassRun c = open.get(a.get().getUniqueId());
            if (c != null) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    private static String className(TestIdentifier id) {
        return id.getSource().filter(ClassSource.class::isInstance).map(s -> ((ClassSource) s).getClassName())
                .orElse(id.getLegacyReportingName());
    }

    /** The class a case belongs to: its nearest enclosing class (nested classes keep theirs). */
    private String caseClass(TestIdentifier id) {
        for (Optional<TestIdentifier> a = Optional.of(id); a.isPresent(); a = plan.getParent(a.get())) {
            if (a.get().getSource().filter(ClassSource.class::isInstance).isPresent()) {
                return className(a.get());
            }
        }
        return id.getLegacyReportingName();
    }

    /** The cases of one running class. */
    private final class ClassRun {
        private final String name;
        private final String startedAt = LocalDateTime.now().truncatedTo(ChronoUnit.SECONDS)
                .format(DateTimeFormatter.ISO_LOCAL_DATE_TIME);
        private final long startNanos = System.nanoTime();
        private final Map<String, Long> starts = new HashMap<>();
        private final Map<String, JunitXml.Case> cases = new LinkedHashMap<>();

        ClassRun(String name) {
            this.name = name;
        }

        String name() {
            return name;
        }

        String startedAt() {
            return startedAt;
        }

        double seconds() {
            return (System.nanoTime() - startNanos) / 1e9;
        }

        List<JunitXml.Case> cases() {
            return new ArrayList<>(cases.values());
        }

        void started(TestIdentifier id) {
            starts.put(id.getUniqueId(), System.nanoTime());
        }

        void finished(TestIdentifier id, String caseClass, Outcome outcome) {
            Long t0 = starts.remove(id.getUniqueId());
            double secs = t0 == null ? 0 : (System.nanoTime() - t0) / 1e9;
            cases.put(id.getUniqueId(), new JunitXml.Case(caseClass, id.getLegacyReportingName(), secs, outcome));
        }

        /** Gives every test below container that has no case yet this outcome; false if there was none. */
        boolean settleDescendants(TestPlan p, TestIdentifier container, Outcome outcome) {
            boolean any = false;
            for (TestIdentifier d : p.getDescendants(container)) {
                if (d.isTest() && !cases.containsKey(d.getUniqueId())) {
                    finished(d, caseClass(d), outcome);
                    any = true;
                }
            }
            return any;
        }
    }
}
