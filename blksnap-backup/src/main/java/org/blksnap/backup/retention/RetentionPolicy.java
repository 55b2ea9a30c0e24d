package org.blksnap.backup.retention;

import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.ToLongFunction;

/**
 * Which backups to keep, decided per group of backups (by default: per
 * device, so that one device's backups never push out another's).
 *
 * <p>Within a group, newest first: {@code last} keeps the N newest;
 * {@code hourly}, {@code daily}, {@code weekly} (ISO weeks),
 * {@code monthly} and {@code yearly} each keep the newest backup of each of
 * the N most recent such periods that have a backup; {@code within} keeps
 * every backup younger than the span, counted back from the group's newest
 * backup (not from now, so a device that stopped being backed up keeps its
 * last backups). A count of {@link #UNLIMITED} keeps one per period for
 * every period. A backup kept for any reason, in any of its groups, stays.
 * These are the semantics of restic's {@code forget --keep-*}.
 *
 * @param last    the N newest
 * @param hourly  one per hour, N hours
 * @param daily   one per day, N days
 * @param weekly  one per ISO week, N weeks
 * @param monthly one per month, N months
 * @param yearly  one per year, N years
 * @param within  every backup within this span of the newest, or null
 */
public record RetentionPolicy(int last, int hourly, int daily, int weekly, int monthly, int yearly, Within within) {
    /** A count that keeps one backup of every period there is. */
    public static final int UNLIMITED = -1;

    /** Validates the counts. */
    public RetentionPolicy {
        for (int n : new int[] {last, hourly, daily, weekly, monthly, yearly}) {
            if (n < UNLIMITED) {
                throw new IllegalArgumentException("a keep count is 0 or more, or unlimited");
            }
        }
    }

    /** @return true if this policy keeps nothing at all (prune refuses it) */
    public boolean keepsNothing() {
        return last == 0 && hourly == 0 && daily == 0 && weekly == 0 && monthly == 0 && yearly == 0
                && (within == null || within.isZero());
    }

    /** How backups are grouped before the policy is applied. */
    public enum GroupBy {
        /** One group per device identity. */
        DEVICE,
        /** One group per device identity and set of tags. */
        DEVICE_AND_TAGS,
        /** All backups in one group (the repository-wide retention of old). */
        NONE
    }

    /**
     * A group of backups the policy was applied to.
     *
     * @param device the device identity, or null when not grouped by device
     * @param tags   the tags, or null when not grouped by tags
     */
    public record Group(String device, java.util.SortedSet<String> tags) {
        @Override
        public String toString() {
            String d = device == null ? "all devices" : device;
            return tags == null ? d : d + " [" + (tags.isEmpty() ? "no tag" : String.join(",", tags)) + "]";
        }
    }

    /**
     * Why a backup is kept: one line per reason, e.g. "daily" in group /dev/disk/by-uuid/x.
     *
     * @param group  the group
     * @param reason the rule that kept it, e.g. {@code last}, {@code daily}, {@code within 2d}
     */
    public record Reason(Group group, String reason) {
        @Override
        public String toString() {
            return reason + " of " + group;
        }
    }

    /**
     * The decision for one backup.
     *
     * @param snapshot the backup
     * @param reasons  why it is kept; empty if it is to be removed
     */
    public record Verdict(Snapshot snapshot, List<Reason> reasons) {
        /** Copies. */
        public Verdict {
            reasons = List.copyOf(reasons);
        }

        /** @return true if it stays */
        public boolean keep() {
            return !reasons.isEmpty();
        }
    }

    /**
     * Applies the policy. Pure: the same input gives the same answer.
     *
     * @param all     the backups, in any order
     * @param groupBy how to group them
     * @param zone    where hours, days, weeks, months and years begin
     * @return a verdict per backup, oldest first
     */
    public List<Verdict> apply(List<Snapshot> all, GroupBy groupBy, ZoneId zone) {
        Objects.requireNonNull(zone, "zone");
        Comparator<Snapshot> newestFirst = Comparator.comparing(Snapshot::time).reversed()
                .thenComparing(Snapshot::id, Comparator.reverseOrder());
        Map<Group, List<Snapshot>> groups = new LinkedHashMap<>();
        for (Snapshot s : all.stream().sorted(newestFirst).toList()) {
            for (Group g : groupsOf(s, groupBy)) {
                groups.computeIfAbsent(g, k -> new ArrayList<>()).add(s);
            }
        }
        Map<String, List<Reason>> reasons = new LinkedHashMap<>();
        for (Snapshot s : all) {
            reasons.put(s.id(), new ArrayList<>());
        }
        groups.forEach((g, list) -> applyToGroup(g, list, zone, reasons));
        return all.stream().sorted(newestFirst.reversed())
                .map(s -> new Verdict(s, reasons.get(s.id()))).toList();
    }

    private static List<Group> groupsOf(Snapshot s, GroupBy groupBy) {
        return switch (groupBy) {
            case NONE -> List.of(new Group(null, null));
            case DEVICE -> s.devices().stream().map(d -> new Group(d, null)).toList();
            case DEVICE_AND_TAGS -> s.devices().stream().map(d -> new Group(d, s.tags())).toList();
        };
    }

    /** One rule that keeps the newest backup of each period it tells apart. */
    private record Bucket(String reason, int count, ToLongFunction<ZonedDateTime> period) {
    }

    private void applyToGroup(Group g, List<Snapshot> newestFirst, ZoneId zone, Map<String, List<Reason>> reasons) {
        int[] position = {0};
        List<Bucket> buckets = List.of(
                // Each backup is a period of its own: the N newest.
                new Bucket("last", last, t -> position[0]),
                new Bucket("hourly", hourly, t -> day(t) * 100 + t.getHour()),
                new Bucket("daily", daily, RetentionPolicy::day),
                new Bucket("weekly", weekly, t -> t.get(IsoFields.WEEK_BASED_YEAR) * 100L
                        + t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR)),
                new Bucket("monthly", monthly, t -> t.getYear() * 100L + t.getMonthValue()),
                new Bucket("yearly", yearly, t -> t.getYear()));
        int[] left = buckets.stream().mapToInt(Bucket::count).toArray();
        long[] lastPeriod = new long[buckets.size()];
        java.util.Arrays.fill(lastPeriod, Long.MIN_VALUE);
        ZonedDateTime cutoff = within == null || within.isZero() ? null
                : within.cutoff(newestFirst.getFirst().time().atZone(zone));
        for (Snapshot s : newestFirst) {
            ZonedDateTime t = s.time().atZone(zone);
            List<Reason> why = reasons.get(s.id());
            for (int i = 0; i < buckets.size(); i++) {
                if (left[i] == 0) {
                    continue;
                }
                long p = buckets.get(i).period().applyAsLong(t);
                if (p != lastPeriod[i]) {
                    lastPeriod[i] = p;
                    if (left[i] > 0) {
                        left[i]--;
                    }
                    why.add(new Reason(g, buckets.get(i).reason()));
                }
            }
            if (cutoff != null && t.isAfter(cutoff)) {
                why.add(new Reason(g, "within " + within));
            }
            position[0]++;
        }
    }

    private static long day(ZonedDateTime t) {
        return t.getYear() * 10000L + t.getMonthValue() * 100L + t.getDayOfMonth();
    }
}
