package org.blksnap.bench;

/**
 * Sizes and times of a run. The full profile keeps the whole run under
 * about 15 minutes under TCG emulation while each random job still runs
 * long enough for its ratio to settle; the quick one only proves that
 * every scenario works.
 *
 * @param name           "full" or "quick"
 * @param regionBytes    the part of each disk the jobs use, from offset 0
 * @param runtimeSeconds length of every time-bounded (random) job
 * @param rampSeconds    warm-up before a time-bounded job is measured
 * @param iodepth        the one queue depth of every job
 * @param pairs          bare/tracked alternations in the CBT scenario
 * @param takes          takes per device set in the latency scenario
 */
public record Profile(String name, long regionBytes, int runtimeSeconds, int rampSeconds, int iodepth,
        int pairs, int takes) {

    /** For make bench. */
    public static final Profile FULL = new Profile("full", 512L << 20, 8, 1, 8, 3, 5);
    /** For the smoke run in make test. */
    public static final Profile QUICK = new Profile("quick", 32L << 20, 1, 0, 8, 1, 1);

    /** @return whether this is the smoke profile */
    public boolean quick() {
        return name.equals(QUICK.name);
    }
}
