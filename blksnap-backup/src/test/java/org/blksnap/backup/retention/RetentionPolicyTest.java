package org.blksnap.backup.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import org.blksnap.backup.retention.RetentionPolicy.GroupBy;
import org.blksnap.backup.retention.RetentionPolicy.Verdict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The retention rules, one at a time and together, on hand-made series of backups. */
class RetentionPolicyTest {
    private static final ZoneId UTC = ZoneOffset.UTC;
    private static final String A = "uuid-a";
    private static final String B = "uuid-b";

    private static final RetentionPolicy NONE = new RetentionPolicy(0, 0, 0, 0, 0, 0, null);

    private static RetentionPolicy last(int n) {
        return new RetentionPolicy(n, 0, 0, 0, 0, 0, null);
    }

    private static Snapshot at(String id, String time, String... devices) {
        return Snapshot.of(id, Instant.parse(time), List.of(devices.length == 0 ? new String[] {A} : devices),
                List.of());
    }

    private static Snapshot tagged(String id, String time, String tag) {
        return Snapshot.of(id, Instant.parse(time), List.of(A), List.of(tag));
    }

    /** @return id to the reasons it was kept for, of the kept ones only, in id order */
    private static Map<String, List<String>> kept(RetentionPolicy p, List<Snapshot> all, GroupBy by, ZoneId zone) {
        Map<String, List<String>> kept = new TreeMap<>();
        for (Verdict v : p.apply(all, by, zone)) {
            if (v.keep()) {
                kept.put(v.snapshot().id(), v.reasons().stream().map(RetentionPolicy.Reason::reason).toList());
            }
        }
        return kept;
    }

    private static java.util.Set<String> keptIds(RetentionPolicy p, List<Snapshot> all) {
        return kept(p, all, GroupBy.DEVICE, UTC).keySet();
    }

    @Test
    void lastKeepsTheNewestN() {
        List<Snapshot> all = List.of(at("1", "2026-01-01T00:00:00Z"), at("2", "2026-01-02T00:00:00Z"),
                at("3", "2026-01-03T00:00:00Z"), at("4", "2026-01-04T00:00:00Z"), at("5", "2026-01-05T00:00:00Z"));
        assertEquals(java.util.Set.of("3", "4", "5"), keptIds(last(3), all));
        assertEquals(java.util.Set.of("1", "2", "3", "4", "5"), keptIds(last(10), all));
        assertEquals(java.util.Set.of("1", "2", "3", "4", "5"), keptIds(last(RetentionPolicy.UNLIMITED), all));
        assertEquals(java.util.Set.of(), keptIds(NONE, all));
    }

    @Test
    void theVerdictsAreOldestFirstAndTheOrderOfTheInputDoesNotMatter() {
        List<Snapshot> all = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            all.add(at(String.format("%02d", i), Instant.parse("2026-01-01T00:00:00Z").plusSeconds(i * 5400L)
                    .toString()));
        }
        RetentionPolicy p = new RetentionPolicy(2, 5, 2, 0, 0, 0, null);
        List<Verdict> ordered = p.apply(all, GroupBy.DEVICE, UTC);
        assertEquals(all, ordered.stream().map(Verdict::snapshot).toList());
        List<Snapshot> shuffled = new ArrayList<>(all);
        Collections.shuffle(shuffled, new Random(5));
        assertEquals(ordered, p.apply(shuffled, GroupBy.DEVICE, UTC));
    }

    @Test
    void dailyKeepsTheNewestOfEachOfTheNMostRecentDaysThatHaveABackup() {
        List<Snapshot> all = List.of(
                at("d1-early", "2026-03-01T01:00:00Z"), at("d1-late", "2026-03-01T23:59:59Z"),
                // No backup on 2 and 3 March: days without one do not count.
                at("d4-a", "2026-03-04T08:00:00Z"), at("d4-b", "2026-03-04T09:00:00Z"),
                at("d4-c", "2026-03-04T10:00:00Z"), at("d5", "2026-03-05T00:00:00Z"));
        RetentionPolicy daily2 = new RetentionPolicy(0, 0, 2, 0, 0, 0, null);
        assertEquals(Map.of("d4-c", List.of("daily"), "d5", List.of("daily")), kept(daily2, all, GroupBy.DEVICE, UTC));
        RetentionPolicy daily3 = new RetentionPolicy(0, 0, 3, 0, 0, 0, null);
        assertEquals(java.util.Set.of("d1-late", "d4-c", "d5"), keptIds(daily3, all));
        RetentionPolicy dailyAll = new RetentionPolicy(0, 0, RetentionPolicy.UNLIMITED, 0, 0, 0, null);
        assertEquals(java.util.Set.of("d1-late", "d4-c", "d5"), keptIds(dailyAll, all));
    }

    @Test
    void daysBeginInTheGivenZone() {
        // 22:30 UTC on 1 March is already 2 March in UTC+2.
        List<Snapshot> all = List.of(at("x", "2026-03-01T21:30:00Z"), at("y", "2026-03-01T22:30:00Z"));
        RetentionPolicy daily = new RetentionPolicy(0, 0, 5, 0, 0, 0, null);
        assertEquals(java.util.Set.of("y"), kept(daily, all, GroupBy.DEVICE, UTC).keySet());
        assertEquals(java.util.Set.of("x", "y"), kept(daily, all, GroupBy.DEVICE, ZoneOffset.ofHours(2)).keySet());
    }

    @Test
    void hourlyTellsHoursOfDifferentDaysApart() {
        List<Snapshot> all = List.of(at("1", "2026-03-01T10:05:00Z"), at("2", "2026-03-01T10:55:00Z"),
                at("3", "2026-03-02T10:05:00Z"), at("4", "2026-03-02T11:00:00Z"), at("5", "2026-03-02T11:59:59Z"));
        RetentionPolicy hourly = new RetentionPolicy(0, 10, 0, 0, 0, 0, null);
        assertEquals(java.util.Set.of("2", "3", "5"), keptIds(hourly, all));
        RetentionPolicy hourly2 = new RetentionPolicy(0, 2, 0, 0, 0, 0, null);
        assertEquals(java.util.Set.of("3", "5"), keptIds(hourly2, all));
    }

    @Test
    void weeklyUsesIsoWeeksAcrossTheTurnOfTheYear() {
        List<Snapshot> all = List.of(
                at("sun", "2026-12-27T12:00:00Z"),  // Sunday of ISO week 2026-W52
                at("mon", "2026-12-28T12:00:00Z"),  // Monday: 2026-W53 begins
                at("thu", "2026-12-31T12:00:00Z"),
                at("fri", "2027-01-01T12:00:00Z"),  // still 2026-W53
                at("mon2", "2027-01-04T12:00:00Z")); // 2027-W01
        RetentionPolicy weekly = new RetentionPolicy(0, 0, 0, 10, 0, 0, null);
        assertEquals(java.util.Set.of("sun", "fri", "mon2"), keptIds(weekly, all));
        RetentionPolicy weekly2 = new RetentionPolicy(0, 0, 0, 2, 0, 0, null);
        assertEquals(java.util.Set.of("fri", "mon2"), keptIds(weekly2, all));
    }

    @Test
    void monthlyAndYearly() {
        List<Snapshot> all = List.of(at("2024-06", "2024-06-15T00:00:00Z"), at("2024-12", "2024-12-31T23:00:00Z"),
                at("2025-01a", "2025-01-01T00:00:00Z"), at("2025-01b", "2025-01-31T00:00:00Z"),
                at("2025-02", "2025-02-01T00:00:00Z"), at("2026-05", "2026-05-05T00:00:00Z"));
        assertEquals(java.util.Set.of("2025-01b", "2025-02", "2026-05"),
                keptIds(new RetentionPolicy(0, 0, 0, 0, 3, 0, null), all));
        assertEquals(java.util.Set.of("2024-12", "2025-02", "2026-05"),
                keptIds(new RetentionPolicy(0, 0, 0, 0, 0, 5, null), all));
        assertEquals(java.util.Set.of("2025-02", "2026-05"),
                keptIds(new RetentionPolicy(0, 0, 0, 0, 0, 2, null), all));
        assertEquals(java.util.Set.of("2024-06", "2024-12", "2025-01b", "2025-02", "2026-05"),
                keptIds(new RetentionPolicy(0, 0, 0, 0, RetentionPolicy.UNLIMITED, 0, null), all));
    }

    @Test
    void withinCountsBackFromTheNewestBackupOfTheGroupNotFromNow() {
        List<Snapshot> all = List.of(at("old", "2020-01-01T00:00:00Z"), at("edge", "2020-01-08T00:00:00Z"),
                at("in", "2020-01-08T00:00:01Z"), at("newest", "2020-01-10T00:00:00Z"));
        RetentionPolicy within2d = new RetentionPolicy(0, 0, 0, 0, 0, 0, Within.parse("2d"));
        // Exactly two days before the newest is not within two days.
        assertEquals(Map.of("in", List.of("within 2d"), "newest", List.of("within 2d")),
                kept(within2d, all, GroupBy.DEVICE, UTC));
        RetentionPolicy within1w = new RetentionPolicy(0, 0, 0, 0, 0, 0, Within.parse("1w"));
        assertEquals(java.util.Set.of("in", "newest", "edge"), keptIds(within1w, all));
    }

    @Test
    void withinUsesCalendarMonths() {
        List<Snapshot> all = List.of(at("feb27", "2026-02-27T12:00:00Z"), at("feb28", "2026-02-28T12:00:00Z"),
                at("mar31", "2026-03-31T00:00:00Z"));
        // One month before 31 March 00:00 is 28 February 00:00.
        assertEquals(java.util.Set.of("feb28", "mar31"),
                keptIds(new RetentionPolicy(0, 0, 0, 0, 0, 0, Within.parse("1m")), all));
        assertEquals(java.util.Set.of("feb27", "feb28", "mar31"),
                keptIds(new RetentionPolicy(0, 0, 0, 0, 0, 0, Within.parse("1m2d")), all));
    }

    @Test
    void rulesAddUpAndEachKeptBackupSaysWhy() {
        List<Snapshot> all = List.of(at("jan", "2026-01-15T00:00:00Z"), at("feb", "2026-02-15T00:00:00Z"),
                at("mar1", "2026-03-20T10:00:00Z"), at("mar2", "2026-03-20T11:00:00Z"));
        RetentionPolicy p = new RetentionPolicy(1, 0, 2, 0, 2, 0, Within.parse("1h"));
        assertEquals(Map.of(
                "mar2", List.of("last", "daily", "monthly", "within 1h"),
                "feb", List.of("daily", "monthly")), kept(p, all, GroupBy.DEVICE, UTC));
    }

    /** The bug of the repository-wide prune: keep-last 1 removed the other device's only backup. */
    @Test
    void eachDeviceKeepsItsOwnBackups() {
        List<Snapshot> all = List.of(at("b1", "2026-01-01T00:00:00Z", B), at("a1", "2026-01-02T00:00:00Z", A),
                at("a2", "2026-01-03T00:00:00Z", A), at("b2", "2026-01-04T00:00:00Z", B),
                at("a3", "2026-01-05T00:00:00Z", A));
        assertEquals(java.util.Set.of("a3", "b2"), keptIds(last(1), all));
        assertEquals(java.util.Set.of("a3"), kept(last(1), all, GroupBy.NONE, UTC).keySet());
        List<Verdict> v = last(1).apply(all, GroupBy.DEVICE, UTC);
        assertEquals("last of uuid-b", v.get(3).reasons().getFirst().toString());
    }

    @Test
    void aBackupOfSeveralDevicesStaysWhileAnyOfThemKeepsIt() {
        List<Snapshot> all = List.of(at("ab", "2026-01-01T00:00:00Z", A, B), at("a", "2026-01-02T00:00:00Z", A));
        Map<String, List<String>> k = kept(last(1), all, GroupBy.DEVICE, UTC);
        assertEquals(java.util.Set.of("ab", "a"), k.keySet());
        Verdict ab = last(1).apply(all, GroupBy.DEVICE, UTC).getFirst();
        assertEquals(1, ab.reasons().size());
        assertEquals(B, ab.reasons().getFirst().group().device());
    }

    @Test
    void groupingByTagsKeepsEachTagsSeries() {
        List<Snapshot> all = List.of(tagged("n1", "2026-01-01T00:00:00Z", "nightly"),
                tagged("w1", "2026-01-02T00:00:00Z", "weekly"), tagged("n2", "2026-01-03T00:00:00Z", "nightly"),
                Snapshot.of("untagged", Instant.parse("2026-01-04T00:00:00Z"), List.of(A), List.of()));
        assertEquals(java.util.Set.of("n2", "w1", "untagged"),
                kept(last(1), all, GroupBy.DEVICE_AND_TAGS, UTC).keySet());
        assertEquals(java.util.Set.of("untagged"), kept(last(1), all, GroupBy.DEVICE, UTC).keySet());
        Verdict w1 = last(1).apply(all, GroupBy.DEVICE_AND_TAGS, UTC).get(1);
        assertEquals("last of uuid-a [weekly]", w1.reasons().getFirst().toString());
    }

    @Test
    void anEmptyRepositoryKeepsNothingAndFailsNothing() {
        assertEquals(List.of(), last(3).apply(List.of(), GroupBy.DEVICE, UTC));
    }

    @Test
    void aPolicyThatKeepsNothingIsRecognised() {
        assertTrue(NONE.keepsNothing());
        assertTrue(new RetentionPolicy(0, 0, 0, 0, 0, 0, Within.parse("0d")).keepsNothing());
        assertFalse(last(1).keepsNothing());
        assertFalse(new RetentionPolicy(0, 0, 0, 0, 0, RetentionPolicy.UNLIMITED, null).keepsNothing());
        assertFalse(new RetentionPolicy(0, 0, 0, 0, 0, 0, Within.parse("1h")).keepsNothing());
        assertThrows(IllegalArgumentException.class, () -> new RetentionPolicy(-2, 0, 0, 0, 0, 0, null));
    }

    @Test
    void spansParse() {
        assertEquals(new Within(1, 6, 0, 0), Within.parse("1y6m"));
        assertEquals(new Within(0, 0, 15, 2), Within.parse("2w1d2h"));
        assertEquals(new Within(0, 0, 0, 36), Within.parse("36h"));
        assertEquals("1y6m", Within.parse("1y6m").toString());
        assertEquals("14d", Within.parse("2w").toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "2", "d", "1h2d", "-1d", "1.5d", "2 d", "99999999999d"})
    void badSpansAreRefused(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Within.parse(text));
        assertTrue(e.getMessage().startsWith("invalid span '" + text + "'"), e.getMessage());
    }
}
