package org.blksnap.bench;

import java.util.Locale;

/** Number formats shared by the table, the chart and the console. */
final class Format {
    private Format() {
    }

    /** @return a ratio like "0.975×": three decimals, so a 2% target is never judged on a rounded figure */
    static String ratio(double r) {
        return String.format(Locale.ROOT, "%.3f×", r);
    }

    /** @return a figure with precision that suits its size */
    static String number(double v) {
        if (Double.isNaN(v)) {
            return "—";
        }
        double a = Math.abs(v);
        if (a >= 100 || v == Math.rint(v)) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
