package org.blksnap.bench;

/**
 * One numbered scenario of the issue. It adds its rows to the bench and
 * leaves the devices as it found them (filters detached, snapshots and dm
 * devices gone), also when it fails.
 *
 * <p>A new scenario (the backup figures, say) is one subclass and one line
 * in {@link Scenarios#all()}.
 */
abstract class Scenario {
    private final int number;
    private final String title;

    /**
     * @param number the scenario's number in the issue
     * @param title  a short title for the console and for a failure row
     */
    Scenario(int number, String title) {
        this.number = number;
        this.title = title;
    }

    final int number() {
        return number;
    }

    final String title() {
        return title;
    }

    /**
     * Measures and records rows in the bench.
     *
     * @throws Exception if the scenario cannot be completed
     */
    abstract void run(Bench bench) throws Exception;
}
