package org.blksnap.backup.engine;

import java.util.Locale;

import org.blksnap.api.Sizes;

/**
 * How much unused space (bytes of chunks no backup needs, inside packs that
 * also hold needed ones) a garbage collection leaves in the repository: the
 * meaning of restic's {@code prune --max-unused}. A pack is rewritten
 * (repacked: its live chunks copied into new packs, the old pack deleted)
 * only to get the repository under this limit, the packs with the largest
 * share of unused bytes first, so the least is copied for the space won.
 */
public sealed interface MaxUnused {
    /** restic's default: at most 5% of the pack bytes unused. */
    MaxUnused DEFAULT = new Percent(5);

    /**
     * @param used bytes of live chunks that stay
     * @return how many unused bytes may stay beside them
     */
    long allowed(long used);

    /**
     * At most this share of all pack bytes (live and unused) is unused.
     *
     * @param percent from 0 (rewrite every pack with an unused byte) to below 100
     */
    record Percent(double percent) implements MaxUnused {
        /** Checks the range. */
        public Percent {
            if (!(percent >= 0 && percent < 100)) {
                throw new IllegalArgumentException("--max-unused: a share from 0% to below 100%, not " + percent
                        + "%");
            }
        }

        @Override
        public long allowed(long used) {
            // unused / (used + unused) <= p  <=>  unused <= used * p / (100 - p)
            return (long) Math.floor(used * (percent / (100 - percent)));
        }

        @Override
        public String toString() {
            return (percent == Math.rint(percent) ? String.valueOf((long) percent) : String.valueOf(percent)) + "%";
        }
    }

    /**
     * At most this many unused bytes.
     *
     * @param bytes the limit
     */
    record Bytes(long bytes) implements MaxUnused {
        /** Checks the sign. */
        public Bytes {
            if (bytes < 0) {
                throw new IllegalArgumentException("--max-unused: not a size: " + bytes);
            }
        }

        @Override
        public long allowed(long used) {
            return bytes;
        }

        @Override
        public String toString() {
            return Sizes.format(bytes);
        }
    }

    /** Never rewrite a pack: only packs without any live chunk are deleted. */
    record Unlimited() implements MaxUnused {
        @Override
        public long allowed(long used) {
            return Long.MAX_VALUE;
        }

        @Override
        public String toString() {
            return "unlimited";
        }
    }

    /**
     * @param text {@code N%}, a size ({@code 100M}, {@code 2G}, {@code 0}) or {@code unlimited}, as restic takes
     * @return the limit
     * @throws IllegalArgumentException naming what is accepted
     */
    static MaxUnused parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (t.equals("unlimited")) {
            return new Unlimited();
        }
        try {
            if (t.endsWith("%")) {
                return new Percent(Double.parseDouble(t.substring(0, t.length() - 1).strip()));
            }
            return new Bytes(Sizes.parseBytes(t));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--max-unused: expected a share such as 5%, a size such as 100M, "
                    + "or unlimited, not '" + text + "'", e);
        }
    }
}
