package org.blksnap.api;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Human sizes: {@code 4G}, {@code 512M}, {@code 1.5T}, {@code 4096}. Suffixes
 * K, M, G, T are powers of 1024 (an optional "B" or "iB" after them is
 * accepted); a bare number is bytes; a trailing "s" means 512-byte sectors.
 */
public final class Sizes {
    private static final Pattern SIZE = Pattern.compile(
            "(\\d+(?:\\.\\d+)?)\\s*(?:([kmgtp])(?:i?b)?|(b)|(s))?", Pattern.CASE_INSENSITIVE);

    private Sizes() {
    }

    /**
     * @param text e.g. "4G"
     * @return the size in bytes
     * @throws IllegalArgumentException with an actionable message
     */
    public static long parseBytes(String text) {
        if (text == null || text.isBlank()) {
            throw invalid(String.valueOf(text));
        }
        Matcher m = SIZE.matcher(text.strip());
        if (!m.matches()) {
            throw invalid(text);
        }
        long unit;
        if (m.group(2) != null) {
            unit = switch (m.group(2).toLowerCase(Locale.ROOT)) {
                case "k" -> 1L << 10;
                case "m" -> 1L << 20;
                case "g" -> 1L << 30;
                case "t" -> 1L << 40;
                default -> 1L << 50;
            };
        } else if (m.group(4) != null) {
            unit = SectorRange.SECTOR_SIZE;
        } else {
            unit = 1;
        }
        String number = m.group(1);
        try {
            if (number.contains(".")) {
                double bytes = Double.parseDouble(number) * unit;
                if (bytes >= 0x1p63) {
                    throw tooLarge(text);
                }
                return (long) Math.ceil(bytes);
            }
            return Math.multiplyExact(Long.parseLong(number), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw tooLarge(text);
        }
    }

    /**
     * @param text e.g. "4G"
     * @return the size in 512-byte sectors, rounded up
     */
    public static long parseSectors(String text) {
        return Math.ceilDiv(parseBytes(text), SectorRange.SECTOR_SIZE);
    }

    /**
     * @param bytes a size
     * @return the size in the largest unit that keeps one decimal, e.g. "1.5G"
     */
    public static String format(long bytes) {
        String[] units = {"", "K", "M", "G", "T", "P"};
        double v = bytes;
        int u = 0;
        while (Math.abs(v) >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        if (u == 0) {
            return bytes + "B";
        }
        return (v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.1f", v)) + units[u];
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException(
                "invalid size '" + text + "': use a number with an optional K, M, G or T suffix, e.g. 4G");
    }

    private static IllegalArgumentException tooLarge(String text) {
        return new IllegalArgumentException("size '" + text + "' is too large");
    }
}
