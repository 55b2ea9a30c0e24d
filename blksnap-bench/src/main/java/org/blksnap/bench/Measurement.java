package org.blksnap.bench;

import java.util.List;
import java.util.Objects;

/**
 * One row of the results table.
 *
 * @param scenario the scenario's number in the issue (1..8)
 * @param name     what was measured, e.g. "4 KiB random write, tracker attached"
 * @param value    the figure (NaN when there is none)
 * @param unit     its unit: "IOPS", "MiB/s", "ms", "B/GiB", ...
 * @param ratio    value divided by the bare device's figure for the same job, or null
 * @param target   the target, or null
 * @param verdict  how the value stands against the target
 * @param note     what the reader needs to know: method, cause of a miss, error
 * @param fioFiles names of the raw fio JSON files behind the figure
 */
public record Measurement(int scenario, String name, double value, String unit, Double ratio,
        Target target, Verdict verdict, String note, List<String> fioFiles) {

    /** Validates the fields. */
    public Measurement {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(unit, "unit");
        Objects.requireNonNull(verdict, "verdict");
        note = note == null ? "" : note;
        fioFiles = fioFiles == null ? List.of() : List.copyOf(fioFiles);
    }

    /**
     * A measurement judged against its target (or not, in a quick run).
     *
     * @return the row
     */
    public static Measurement judged(int scenario, String name, double value, String unit, Double ratio,
            Target target, boolean quick, String note, List<String> fioFiles) {
        Verdict v;
        if (target == null) {
            v = Verdict.NO_TARGET;
        } else if (quick) {
            v = Verdict.NOT_JUDGED;
        } else {
            v = target.isMet(value, ratio) ? Verdict.MET : Verdict.MISSED;
        }
        return new Measurement(scenario, name, value, unit, ratio, target, v, note, fioFiles);
    }

    /** @return a row for a scenario that could not run, carrying the error */
    public static Measurement failed(int scenario, String name, String error) {
        return new Measurement(scenario, name, Double.NaN, "", null, null, Verdict.FAILED, error, List.of());
    }

    /** @return a row for a scenario whose feature does not exist yet */
    public static Measurement notAvailable(int scenario, String name, String why) {
        return new Measurement(scenario, name, Double.NaN, "", null, null, Verdict.NOT_AVAILABLE, why, List.of());
    }
}
