package org.blksnap.bench;

/**
 * One numbered scenario of the issue. It adds its rows to the bench and
 * leaves the devices as it found them (filters detached, snapshots and dm
 * devices gone), also when it fails.
 *
 * <p>A new scenario (the backup figures, say) is one class implementing
 * this and one line in {@link Scenarios#all()}.
 */
interface Scenario {
    /** @return the scenario's number in the issue */
    int number();

    /** @return a short title for the console and for a failure row */
    String title();

    /**
     * Measures and records rows in the bench.
     *
     * @throws Exception if the scenario cannot be completed
     */
    void run(Bench bench) throws Exception;
}
