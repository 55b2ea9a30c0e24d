package org.blksnap.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Targets, the table, the chart, the README section and the smoke verdict. */
class ReportTest {
    private static final Target AT_LEAST_09 = Target.ratioAtLeast(0.9, "because; fix it so");

    private static Results results(List<Measurement> rows) {
        return new Results("2026-11-23T19:00:00Z", false,
                new Results.Environment("6.1.0-56-amd64", 2, 4_000_000, "fio-3.33", "vda"), Profile.FULL, rows);
    }

    private static Measurement ratioRow(double ratio) {
        return Measurement.judged(3, "4 KiB random rewrites, snapshot", 900 * ratio, "IOPS", ratio, AT_LEAST_09,
                false, "", List.of("s3.json"));
    }

    @Test
    void targetsJudgeRatioOrValue() {
        assertEquals(Verdict.MET, ratioRow(0.95).verdict());
        assertEquals(Verdict.MET, ratioRow(0.9).verdict());
        assertEquals(Verdict.MISSED, ratioRow(0.89).verdict());
        Target mem = Target.valueAtMost(128, "x");
        assertTrue(mem.isMet(128, null));
        assertFalse(mem.isMet(129, null));
        assertEquals("≤ 128 B/chunk", mem.describe("B/chunk"));
        assertEquals("≥ 0.900× bare", AT_LEAST_09.describe("IOPS"));
    }

    @Test
    void quickRunsJudgeNothing() {
        Measurement m = Measurement.judged(3, "x", 1, "IOPS", 0.1, AT_LEAST_09, true, "", List.of());
        assertEquals(Verdict.NOT_JUDGED, m.verdict());
    }

    @Test
    void tableShowsMissesAndTheirCause() {
        Results r = results(List.of(ratioRow(0.5), Measurement.notAvailable(8, "full backup", "not merged")));
        String table = MarkdownReport.table(r);
        assertTrue(table.contains(
                "| 3 | 4 KiB random rewrites, snapshot | 450 IOPS | 0.500× | ≥ 0.900× bare | **missed** |"), table);
        assertTrue(table.contains("| 8 | full backup | — | — | — | not available yet |"), table);
        String page = MarkdownReport.page(r, "t", "c.png", "raw", "");
        assertTrue(page.contains("missed ≥ 0.900× bare: because; fix it so"), page);
    }

    @Test
    void resultsSurviveJsonAndChartIsAPng(@TempDir Path dir) throws Exception {
        Results r = results(List.of(ratioRow(0.95), Measurement.judged(4, "first writes, blksnap ÷ dm-snapshot",
                2.5, "× dm-snapshot", null, Target.valueAtLeast(2, "y"), false, "", List.of()),
                Measurement.judged(2, "tracked", 100, "IOPS", 0.99, null, false, "", List.of())));
        r.write(dir);
        assertEquals(r, Results.read(dir));
        Path png = dir.resolve("c.png");
        RatioChart.write(r, png, "test");
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(png), 4);
        assertEquals("\u0089PNG", new String(head, java.nio.charset.StandardCharsets.ISO_8859_1));
    }

    @Test
    void readmeSectionIsReplacedBetweenTheMarkers() {
        String text = "a\n" + ReadmeSection.BEGIN + "\nold\n" + ReadmeSection.END + "\nb\n";
        assertEquals("a\n" + ReadmeSection.BEGIN + "\nnew\n" + ReadmeSection.END + "\nb\n",
                ReadmeSection.replace(text, "new\n"));
        assertThrows(IllegalArgumentException.class, () -> ReadmeSection.replace("no markers", "x"));
    }

    @Test
    void smokeCheckWantsEveryScenarioAndItsFiles(@TempDir Path dir) throws Exception {
        List<String> p = SmokeCheck.problems(results(List.of(ratioRow(1),
                Measurement.failed(5, "image reads", "java.io.IOException: fio failed"))), dir);
        assertTrue(p.contains("scenario 5 (image reads) failed: java.io.IOException: fio failed"), p.toString());
        assertTrue(p.contains("scenario 3: raw fio output s3.json is missing"), p.toString());
        assertTrue(p.contains("scenario 1 reported nothing"), p.toString());
        Path xml = dir.resolve("TEST-smoke.xml");
        SmokeCheck.writeJUnit(xml, p, 1);
        String s = Files.readString(xml);
        assertTrue(s.contains("failures=\"1\"") && s.contains("<failure message=\"scenario"), s);
        SmokeCheck.writeJUnit(xml, List.of(), 1);
        assertFalse(Files.readString(xml).contains("<failure"));
    }

    @Test
    void noiseIsTheSpreadOfTheRepeatedBareJob(@TempDir Path dir) throws Exception {
        Path fio = Path.of(ReportTest.class.getResource("/fio-strided-write.json").toURI());
        assertEquals("", Noise.describe(dir));
        Files.copy(fio, dir.resolve("s1-bare-randwrite-4k.json"));
        Files.copy(fio, dir.resolve("s2-bare-randwrite-4k-1.json"));
        Files.copy(fio, dir.resolve("s3-snap-rewrite-4k.json"));
        String s = Noise.describe(dir);
        assertTrue(s.contains("ran 2 times") && s.contains("max/min 1.00"), s);
    }

    @Test
    void countersAreFoundByName() {
        String snapshots = "bytes_per_changed_chunk 96\nsnapshot 1 taken 1\n  device 254:0 chunk_sectors 512 "
                + "chunks 2048 changed 1024 chunk_state_bytes 98304 error 0\n";
        assertEquals(512, Counters.require(snapshots, "chunk_sectors", "snapshots"));
        assertEquals(2048, Counters.require(snapshots, "chunks", "snapshots"));
        assertEquals(1024, Counters.require(snapshots, "changed", "snapshots"));
        assertEquals(65536, Counters.require("vda 254:0 capacity=1 block_size=65536 x", "block_size", "t"));
        assertThrows(IllegalStateException.class, () -> Counters.require(snapshots, "missing", "snapshots"));
    }
}
