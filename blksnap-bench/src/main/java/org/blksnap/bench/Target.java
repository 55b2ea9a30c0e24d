package org.blksnap.bench;

import java.util.Objects;

/**
 * A target from the issue: a bound on the ratio to bare or on the value.
 *
 * @param basis    what is bounded
 * @param atLeast  true for a lower bound, false for an upper bound
 * @param bound    the bound
 * @param ifMissed why the module can miss it and what would fix it, for the report
 */
public record Target(Basis basis, boolean atLeast, double bound, String ifMissed) {

    /** What a target bounds. */
    public enum Basis {
        /** The measurement's ratio to the bare device. */
        RATIO,
        /** The measured value itself. */
        VALUE
    }

    /** Validates the fields. */
    public Target {
        Objects.requireNonNull(basis, "basis");
        Objects.requireNonNull(ifMissed, "ifMissed");
    }

    /** @return a lower bound on the ratio to bare */
    public static Target ratioAtLeast(double bound, String ifMissed) {
        return new Target(Basis.RATIO, true, bound, ifMissed);
    }

    /** @return a lower bound on the value */
    public static Target valueAtLeast(double bound, String ifMissed) {
        return new Target(Basis.VALUE, true, bound, ifMissed);
    }

    /** @return an upper bound on the value */
    public static Target valueAtMost(double bound, String ifMissed) {
        return new Target(Basis.VALUE, false, bound, ifMissed);
    }

    /**
     * @param value the measured value
     * @param ratio its ratio to bare, or null
     * @return whether the target is met
     */
    public boolean isMet(double value, Double ratio) {
        double x = basis == Basis.RATIO ? Objects.requireNonNull(ratio, "a ratio target needs a ratio") : value;
        return atLeast ? x >= bound : x <= bound;
    }

    /** @param unit the measurement's unit @return e.g. "≥ 0.90× bare" */
    public String describe(String unit) {
        String op = atLeast ? "≥ " : "≤ ";
        return switch (basis) {
            case RATIO -> op + Format.ratio(bound) + " bare";
            case VALUE -> op + Format.number(bound) + " " + unit;
        };
    }
}
