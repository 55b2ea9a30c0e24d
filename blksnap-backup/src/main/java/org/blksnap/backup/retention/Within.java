package org.blksnap.backup.retention;

import java.time.ZonedDateTime;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A calendar span such as {@code 1y6m}, {@code 14d} or {@code 36h}:
 * backups younger than this, counted back from the newest backup of their
 * group, are all kept. Calendar units, not fixed seconds: {@code 1m} before
 * 31 March is 28 or 29 February.
 *
 * @param years  years
 * @param months months
 * @param days   days
 * @param hours  hours
 */
public record Within(int years, int months, int days, int hours) {
    private static final Pattern SYNTAX = Pattern.compile("(?:(\\d+)y)?(?:(\\d+)m)?(?:(\\d+)w)?(?:(\\d+)d)?(?:(\\d+)h)?");

    /** Validates the fields. */
    public Within {
        if (years < 0 || months < 0 || days < 0 || hours < 0) {
            throw new IllegalArgumentException("a span cannot be negative");
        }
    }

    /**
     * @param text e.g. {@code 2y}, {@code 1m15d}, {@code 2w}, {@code 12h}, in
     *             the order y, m, w, d, h
     * @return the span
     * @throws IllegalArgumentException if the text is not one
     */
    public static Within parse(String text) {
        Matcher m = SYNTAX.matcher(text);
        if (text.isEmpty() || !m.matches()) {
            throw new IllegalArgumentException("invalid span '" + text + "': use numbers with y, m, w, d, h in "
                    + "that order, e.g. 1y6m, 14d, 36h");
        }
        try {
            return new Within(group(m, 1), group(m, 2), 7 * group(m, 3) + group(m, 4), group(m, 5));
        } catch (ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException("invalid span '" + text + "': too large", e);
        }
    }

    private static int group(Matcher m, int i) {
        return m.group(i) == null ? 0 : Integer.parseInt(m.group(i));
    }

    /**
     * @param newest the newest backup's time
     * @return the moment before which backups are no longer within the span
     */
    ZonedDateTime cutoff(ZonedDateTime newest) {
        return newest.minusYears(years).minusMonths(months).minusDays(days).minusHours(hours);
    }

    /** @return true for the empty span, which keeps nothing */
    public boolean isZero() {
        return years == 0 && months == 0 && days == 0 && hours == 0;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        append(s, years, 'y');
        append(s, months, 'm');
        append(s, days, 'd');
        append(s, hours, 'h');
        return s.isEmpty() ? "0h" : s.toString();
    }

    private static void append(StringBuilder s, int n, char unit) {
        if (n > 0) {
            s.append(n).append(unit);
        }
    }
}
