package org.blksnap.itest.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/test-summary run on fixture trees (a copy of it in a project root with
 * build/reports/{guest,runs} and a Surefire report): a guest run that died,
 * timed out or left a cut-off report must show in the closing line as a
 * failed test, named.
 */
class TestSummaryScriptTest {
    private static final Path SCRIPT = Path.of("").toAbsolutePath().getParent().resolve("scripts/test-summary");

    @TempDir
    Path root;

    private record Run(int exit, List<String> lines) {
        String last() {
            return lines.getLast();
        }

        boolean names(String text) {
            return lines.stream().anyMatch(l -> l.startsWith("  FAILED ") && l.contains(text));
        }
    }

    private Run summary(String... args) throws IOException, InterruptedException {
        assertTrue(Files.isExecutable(SCRIPT), SCRIPT + " is missing");
        // The script reads the project it is part of: the fixture tree gets a copy.
        Path copy = root.resolve("scripts/test-summary");
        Files.createDirectories(copy.getParent());
        Files.copy(SCRIPT, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        List<String> cmd = new ArrayList<>(List.of("bash", copy.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "test-summary did not end");
        return new Run(p.exitValue(), out.lines().toList());
    }

    private void write(String rel, String text) throws IOException {
        Path f = root.resolve(rel);
        Files.createDirectories(f.getParent());
        Files.writeString(f, text);
    }

    private static String suite(String name, int passed, int failed) {
        StringBuilder b = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"" + name
                + "\" tests=\"" + (passed + failed) + "\">\n");
        for (int i = 0; i < passed; i++) {
            b.append("<testcase name=\"ok").append(i).append("()\" classname=\"").append(name).append("\"/>\n");
        }
        for (int i = 0; i < failed; i++) {
            b.append("<testcase name=\"bad").append(i).append("()\" classname=\"").append(name)
                    .append("\"><failure message=\"expected &lt;1&gt;\"><![CDATA[at X <testcase>]]></failure></testcase>\n");
        }
        return b.append("</testsuite>\n").toString();
    }

    private void status(String slug, String name, String exit, String reason) throws IOException {
        write("build/reports/runs/" + slug + ".status", "name=" + name + "\nslug=" + slug + "\nexit=" + exit
                + "\nseconds=12\ntimeout=1500\nreports=build/reports/guest/" + slug + "\nreason=" + reason + "\n");
    }

    private void hostReport() throws IOException {
        write("blksnap-api/target/surefire-reports/TEST-org.blksnap.api.FooTest.xml", suite("FooTest", 3, 0));
    }

    @Test
    void everyRunEndedWithItsReports() throws Exception {
        hostReport();
        status("guest-suite-6-1", "guest suite (6.1)", "0", "exited 0");
        write("build/reports/guest/guest-suite-6-1/TEST-a.TakeIT.xml", suite("a.TakeIT", 4, 0));
        Run r = summary("--require-guest");
        assertEquals("7 passed, 0 failed", r.last(), String.join("\n", r.lines()));
        assertEquals(0, r.exit());
    }

    private void kernelStatus(String slug, String name, String kernel, String exit, String reason)
            throws IOException {
        status(slug, name, exit, reason);
        write("build/reports/runs/" + slug + ".status",
                Files.readString(root.resolve("build/reports/runs/" + slug + ".status")) + "kernel=" + kernel + "\n");
    }

    @Test
    void theLineBeforeTheClosingOneCountsEachKernelsGuestTestsAndARunThatDiedCountsOnItsKernel() throws Exception {
        hostReport();
        kernelStatus("guest-suite-6-1", "guest suite (6.1)", "6.1.0-57-amd64", "0", "exited 0");
        write("build/reports/guest/guest-suite-6-1/TEST-a.TakeIT.xml", suite("a.TakeIT", 4, 0));
        kernelStatus("package-test", "package test", "6.1.0-57-amd64", "0", "exited 0");
        write("build/reports/guest/package-test/TEST-p.xml", suite("p", 1, 0));
        kernelStatus("kernel-7-2", "kernel 7.2.13+deb14-amd64", "7.2.13+deb14-amd64", "1", "exited 1");
        write("build/reports/guest/kernel-7-2/TEST-a.TakeIT.xml", suite("a.TakeIT", 5, 1));
        kernelStatus("kernel-7-3", "kernel 7.3-amd64", "7.3-amd64", "124", "timed out after 1200 s");
        write("build/reports/guest/kernel-7-3/TEST-a.TakeIT.xml", suite("a.TakeIT", 2, 0));
        Run r = summary("--require-guest");
        String all = String.join("\n", r.lines());
        assertEquals("15 passed, 2 failed", r.last(), all);
        assertEquals("by kernel: 6.1.0-57-amd64 5 passed 0 failed, 7.2.13+deb14-amd64 5 passed 1 failed,"
                + " 7.3-amd64 2 passed 1 failed", r.lines().get(r.lines().size() - 2), all);
        assertEquals(1, r.exit());
    }

    @Test
    void aTimedOutRunIsOneFailedTestNamedWithItsReasonAndItsFinishedClassesCount() throws Exception {
        hostReport();
        status("guest-suite-6-1", "guest suite (6.1)", "124", "timed out after 1500 s (in a.WriteStormIT)");
        write("build/reports/guest/guest-suite-6-1/TEST-a.TakeIT.xml", suite("a.TakeIT", 4, 0));
        write("build/reports/guest/guest-suite-6-1/TEST-a.DestroyIT.xml", suite("a.DestroyIT", 2, 0));
        Run r = summary();
        assertEquals("9 passed, 1 failed", r.last(), String.join("\n", r.lines()));
        assertTrue(r.names("guest suite (6.1): timed out after 1500 s (in a.WriteStormIT)"), String.join("\n", r.lines()));
        assertEquals(1, r.exit());
    }

    @Test
    void aRunWithoutReportIsOneFailedTest() throws Exception {
        hostReport();
        status("guest-suite", "guest suite", "0", "exited 0");
        status("package-test", "package test", "125", "module failed to load");
        Run r = summary();
        assertEquals("3 passed, 2 failed", r.last(), String.join("\n", r.lines()));
        assertTrue(r.names("guest suite: exited 0 but wrote no test report"), String.join("\n", r.lines()));
        assertTrue(r.names("package test: module failed to load"), String.join("\n", r.lines()));
        assertEquals(1, r.exit());
    }

    @Test
    void aFailedRunShowsTheEndOfItsLogAndAPassedRunDoesNot() throws Exception {
        hostReport();
        status("bench-smoke", "bench smoke", "134", "exited 134");
        write("build/reports/runs/bench-smoke.log", "vm/run: booting\r\n" + "early line\n".repeat(20)
                + "bench: the benchmark's JVM died on signal 6 (exit 134)\n");
        status("guest-suite", "guest suite", "0", "exited 0");
        write("build/reports/guest/guest-suite/TEST-a.TakeIT.xml", suite("a.TakeIT", 1, 0));
        write("build/reports/runs/guest-suite.log", "suite's own words\n");
        Run r = summary();
        String all = String.join("\n", r.lines());
        assertEquals("4 passed, 1 failed", r.last(), all);
        assertTrue(r.lines().contains("    | bench: the benchmark's JVM died on signal 6 (exit 134)"), all);
        assertFalse(all.contains("vm/run: booting"), "only the log's last lines: " + all);
        assertFalse(all.contains("suite's own words"), "a run that passed shows no log: " + all);
    }

    @Test
    void eachFailedTestCaseIsNamedWithItsMessage() throws Exception {
        hostReport();
        status("guest-suite", "guest suite", "1", "exited 1");
        write("build/reports/guest/guest-suite/TEST-a.TakeIT.xml", suite("a.TakeIT", 1, 2));
        Run r = summary();
        String all = String.join("\n", r.lines());
        assertEquals("4 passed, 2 failed", r.last(), all);
        for (String bad : List.of("bad0()", "bad1()")) {
            assertTrue(r.lines().contains("  FAILED TEST (build/reports/guest/guest-suite/TEST-a.TakeIT.xml) a.TakeIT."
                    + bad + ": expected <1>"), all);
        }
        assertFalse(all.contains("ok0()"), "a passed case is not named: " + all);
    }

    @Test
    void aTruncatedReportIsOneFailedTestAndItsCompleteCasesCount() throws Exception {
        hostReport();
        status("guest-suite", "guest suite", "0", "exited 0");
        String full = suite("a.TakeIT", 2, 1);
        write("build/reports/guest/guest-suite/TEST-a.TakeIT.xml", full.substring(0, full.indexOf("<testcase name=\"bad0")
                + 40));
        Run r = summary();
        assertEquals("5 passed, 1 failed", r.last(), String.join("\n", r.lines()));
        assertTrue(r.names("report build/reports/guest/guest-suite/TEST-a.TakeIT.xml is incomplete"),
                String.join("\n", r.lines()));
        assertEquals(1, r.exit());
    }

    @Test
    void failedTestsOfARunThatExitedOneAreNotCountedTwice() throws Exception {
        status("guest-suite", "guest suite", "1", "exited 1");
        write("build/reports/guest/guest-suite/TEST-a.TakeIT.xml", suite("a.TakeIT", 3, 2));
        Run r = summary();
        assertEquals("3 passed, 2 failed", r.last(), String.join("\n", r.lines()));
        assertEquals(1, r.exit());
    }

    @Test
    void aRunThatNeverEndedIsCountedAndOnlyTheRunAskedForIsCounted() throws Exception {
        hostReport();
        status("soak", "soak", "", "did not finish (the run was interrupted)");
        write("build/reports/guest/soak/TEST-a.StampedBlocksIT.xml", suite("a.StampedBlocksIT", 2, 0));
        status("other", "other", "0", "exited 0");
        write("build/reports/guest/other/TEST-a.TakeIT.xml", suite("a.TakeIT", 1, 1));
        Run r = summary("--run", "soak");
        assertEquals("2 passed, 1 failed", r.last(), String.join("\n", r.lines()));
        assertTrue(r.names("soak: did not finish (the run was interrupted)"), String.join("\n", r.lines()));
    }

    @Test
    void nothingFoundIsAFailure() throws Exception {
        Files.createDirectories(root.resolve("build/reports/guest"));
        Run r = summary("--require-guest");
        assertEquals("0 passed, 1 failed", r.last(), String.join("\n", r.lines()));
        assertTrue(r.names("nothing was tested"), String.join("\n", r.lines()));
        assertEquals(1, r.exit());
    }
}
