package org.blksnap.bench;

/** How a measurement stands against its target. */
public enum Verdict {
    /** The target is met. */
    MET("met"),
    /** The target is missed; the report says why and what would fix it. */
    MISSED("**missed**"),
    /** The measurement has no target (a baseline or a figure for reference). */
    NO_TARGET("—"),
    /** A quick (smoke) run: too short for a target to mean anything. */
    NOT_JUDGED("not judged (quick)"),
    /** The feature the scenario measures does not exist yet. */
    NOT_AVAILABLE("not available yet"),
    /** The scenario failed to run; the note holds the error. */
    FAILED("**failed**");

    private final String label;

    Verdict(String label) {
        this.label = label;
    }

    /** @return the text of the table's "met?" column */
    public String label() {
        return label;
    }
}
