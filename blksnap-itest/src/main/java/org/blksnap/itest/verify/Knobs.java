package org.blksnap.itest.verify;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sizes and durations of the verification workload. Each is a system
 * property {@code blksnap.verify.NAME} or else an environment variable
 * {@code BLKSNAP_VERIFY_NAME}; the defaults make the CI-sized run of
 * {@code make test}. {@code BLKSNAP_SOAK_DURATION} (e.g. {@code 2h}, as
 * {@code make soak DURATION=2h} passes it) turns every looping scenario into
 * rounds of takes and checks until its share of that time is over.
 *
 * @param soak      total soak time, {@link Duration#ZERO} for the CI run
 * @param writeTime how long the writers run before each take
 * @param rounds    takes per scenario in the CI run
 * @param writers   writer threads
 * @param deviceMiB size of the stamped region per device, MiB
 */
public record Knobs(Duration soak, Duration writeTime, int rounds, int writers, int deviceMiB) {
    private static final Pattern DURATION = Pattern.compile("([1-9][0-9]*)([smhd]?)");

    public static Knobs current() {
        String soak = value("soak.duration", "BLKSNAP_SOAK_DURATION", "0s");
        return new Knobs(soak.equals("0") || soak.equals("0s") ? Duration.ZERO : parseDuration(soak),
                Duration.ofMillis(number("write.millis", 1000)),
                (int) number("rounds", 2),
                (int) number("writers", 3),
                (int) number("device.mib", 48));
    }

    public boolean soaking() {
        return !soak.isZero();
    }

    /**
     * Runs rounds until either the CI count is done or, when soaking, the
     * scenario's share of the soak time is over.
     */
    public Deadline deadline(double share) {
        return soaking() ? new Deadline(System.nanoTime() + (long) (soak.toNanos() * share), Integer.MAX_VALUE)
                : new Deadline(Long.MAX_VALUE, rounds);
    }

    /** When a looping scenario stops. */
    public record Deadline(long nanos, int rounds) {
        public boolean more(int done) {
            return done < rounds && (done == 0 || System.nanoTime() < nanos);
        }

        public String left() {
            return nanos == Long.MAX_VALUE ? rounds + " rounds"
                    : Duration.ofNanos(Math.max(0, nanos - System.nanoTime())).toSeconds() + " s left";
        }
    }

    /** "90", "90s", "30m", "2h", "1d" (seconds when no unit). */
    public static Duration parseDuration(String text) {
        Matcher m = DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("not a duration: '" + text + "' (examples: 90s, 30m, 2h)");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "", "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    private static long number(String name, long fallback) {
        String v = value(name, "BLKSNAP_VERIFY_" + name.toUpperCase(Locale.ROOT).replace('.', '_'), null);
        if (v == null) {
            return fallback;
        }
        long n = Long.parseLong(v.strip());
        if (n <= 0) {
            throw new IllegalArgumentException("blksnap.verify." + name + " must be positive, got " + v);
        }
        return n;
    }

    private static String value(String property, String env, String fallback) {
        String v = System.getProperty("blksnap.verify." + property);
        if (v == null) {
            v = System.getenv(env);
        }
        return v == null || v.isBlank() ? fallback : v;
    }
}
