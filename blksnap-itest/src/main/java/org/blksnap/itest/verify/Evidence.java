package org.blksnap.itest.verify;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the verification suite has proved so far in this JVM, tallied by every
 * verification test and printed once at the end of the run by
 * {@link EvidenceReport}. A figure here is only ever added after the check it
 * stands for was actually made, so the summary is evidence, not a plan.
 */
public final class Evidence {
    /** The fixed tallies of the summary, in the order it prints them. */
    public enum Tally {
        BLOCKS_VERIFIED("blocks verified"),
        FILES_VERIFIED("files verified"),
        SNAPSHOTS_TAKEN("snapshots taken"),
        BYTES_COMPARED("bytes compared"),
        IOCTLS_FUZZED("ioctls fuzzed"),
        MISMATCHES("mismatches");

        private final String label;

        Tally(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** A frozen copy of the tallies and of the faults injected, by kind. */
    public record Summary(Map<Tally, Long> tallies, Map<String, Long> faults) {
        public boolean isEmpty() {
            return faults.isEmpty() && tallies.values().stream().allMatch(v -> v == 0);
        }
    }

    private static final Map<Tally, LongAdder> TALLIES = new EnumMap<>(Tally.class);
    private static final ConcurrentMap<String, LongAdder> FAULTS = new ConcurrentHashMap<>();

    static {
        for (Tally t : Tally.values()) {
            TALLIES.put(t, new LongAdder());
        }
    }

    private Evidence() {
    }

    public static void add(Tally tally, long n) {
        TALLIES.get(tally).add(n);
    }

    /**
     * One fault of the given kind was injected ("storage overflow",
     * "dm-flakey error", "loop detach", ...); the summary lists kinds by name.
     */
    public static void fault(String kind) {
        FAULTS.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    public static Summary summary() {
        Map<Tally, Long> t = new EnumMap<>(Tally.class);
        TALLIES.forEach((k, v) -> t.put(k, v.sum()));
        Map<String, Long> f = new TreeMap<>();
        FAULTS.forEach((k, v) -> f.put(k, v.sum()));
        return new Summary(Collections.unmodifiableMap(t), Collections.unmodifiableMap(f));
    }
}
