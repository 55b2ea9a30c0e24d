package org.blksnap.cli;

import org.blksnap.api.SectorRange;
import org.blksnap.api.SnapshotId;
import org.blksnap.api.Sizes;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Option value converters with messages that say what is expected. */
public final class Converters {
    private Converters() {
    }

    /** K/M/G/T sizes, result in bytes. */
    public static final class Size implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                long bytes = Sizes.parseBytes(value);
                if (bytes <= 0) {
                    throw new TypeConversionException("size must be positive: '" + value + "'");
                }
                return bytes;
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** A snapshot uuid. */
    public static final class Id implements ITypeConverter<SnapshotId> {
        @Override
        public SnapshotId convert(String value) {
            try {
                return SnapshotId.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("invalid snapshot id '" + value
                        + "': expected a uuid as printed by snapshot_create, e.g. "
                        + "0d0b1f9e-6c63-4bd3-9a57-0b9f3c1e5a77");
            }
        }
    }

    /** {@code sector:count}. */
    public static final class Range implements ITypeConverter<SectorRange> {
        @Override
        public SectorRange convert(String value) {
            int colon = value.indexOf(':');
            try {
                if (colon < 0) {
                    throw new NumberFormatException();
                }
                return new SectorRange(Long.parseLong(value.substring(0, colon)),
                        Long.parseLong(value.substring(colon + 1)));
            } catch (NumberFormatException e) {
                throw new TypeConversionException("invalid range '" + value
                        + "': expected SECTOR:COUNT in 512-byte sectors, e.g. 2048:8");
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("invalid range '" + value + "': " + e.getMessage());
            }
        }
    }

    /** Milliseconds, non-negative. */
    public static final class Millis implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                long ms = Long.parseLong(value);
                if (ms < 0 || ms > 0xffff_ffffL) {
                    throw new NumberFormatException();
                }
                return ms;
            } catch (NumberFormatException e) {
                throw new TypeConversionException("invalid timeout '" + value
                        + "': expected milliseconds between 0 and 4294967295");
            }
        }
    }

    /** A duration: a number with a unit (s, m, h; ms), or a bare number of seconds. */
    public static final class Wait implements ITypeConverter<java.time.Duration> {
        private static final java.util.regex.Pattern FORM = java.util.regex.Pattern.compile("(\\d{1,9})(ms|s|m|h)?");

        @Override
        public java.time.Duration convert(String value) {
            java.util.regex.Matcher m = FORM.matcher(value.strip());
            if (!m.matches()) {
                throw new TypeConversionException("invalid duration '" + value + "': expected e.g. 30s, 5m, 1h");
            }
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            return switch (unit) {
                case "ms" -> java.time.Duration.ofMillis(n);
                case "m" -> java.time.Duration.ofMinutes(n);
                case "h" -> java.time.Duration.ofHours(n);
                default -> java.time.Duration.ofSeconds(n);
            };
        }
    }
}
