package org.blksnap.bench;

import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Figures read from the module's debugfs files {@code memory} and
 * {@code snapshots} (module/debugfs.c, diff_area.c). Their format is no
 * interface, so every figure is looked up by name and a missing one is an
 * error, not a zero.
 */
final class Counters {
    private Counters() {
    }

    /**
     * @param text the content of a debugfs file
     * @param key  a name followed by a number: "key value" or "key=value",
     *             alone on a line or among other pairs
     * @return the first value of that key
     */
    static OptionalLong find(String text, String key) {
        Matcher m = Pattern.compile("(?:^|\\s)" + Pattern.quote(key) + "[=\\s]+(\\d+)").matcher(text);
        return m.find() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
    }

    /**
     * The module's profile of copy-on-write (debugfs snapshots): how many
     * writes were held, chunks loaded and stored, and their average times.
     *
     * @return e.g. "held 512 (avg 850 us), loads 512 (avg 700 us), stores 512 (avg 2100 us)"
     */
    static String copyOnWriteProfile(String snapshots) {
        StringBuilder b = new StringBuilder();
        for (String stage : new String[] {"held", "loads", "stores", "cow", "alloc", "pool_waits", "submits"}) {
            b.append(b.isEmpty() ? "" : ", ").append(stage).append(' ').append(require(snapshots, stage, "snapshots"))
                    .append(" (avg ").append(require(snapshots, stage + "_us", "snapshots")).append(" us)");
        }
        return b.toString();
    }

    /** @return the value of a key that must be there */
    static long require(String text, String key, String file) {
        return find(text, key).orElseThrow(() -> new IllegalStateException(
                "debugfs " + file + " has no '" + key + "' figure (format changed?):\n" + text));
    }
}
